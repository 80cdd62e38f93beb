"""Analysis streams: the SFU (ingest/sfu.py) relays the small layer of each consenting
participant's camera to a peer connection of ingest's own, whose frames are sampled for the
workers (ingest/tap.py). Only consenting participants' video reaches here, and nothing else of
the call."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidStateError

from contracts.settings import Settings
from ingest.metrics import METRICS
from ingest.publisher import StreamPublisher
from ingest.rooms import Member, Room
from ingest.tap import FrameTap

log = logging.getLogger("econsult.ingest")
Lost = Callable[[], Awaitable[None]]


class NotAnalysed(Exception):
    """The participant is not to be analysed: they have not agreed, or ingest stopped analysing
    them (they withdrew, left or published anew) while their connection was being set up."""


class AnalysisPeers:
    def __init__(self, settings: Settings, publisher: StreamPublisher) -> None:
        self._settings = settings
        self._publisher = publisher
        # Each participant's connection, its taps, and what to do if it ends on its own.
        self._peers: dict[uuid.UUID, tuple[RTCPeerConnection, list[FrameTap], Lost]] = {}
        self._watchers: set[asyncio.Future] = set()

    def __len__(self) -> int:
        return len(self._peers)

    async def answer(self, room: Room, member: Member, sdp: str, lost: Lost) -> str:
        """Answer the SFU's offer of a consenting participant's video; an earlier analysis
        connection of theirs is replaced. ``lost`` is awaited if the connection ends without
        ingest closing it (it failed, the SFU hung up, or its video went silent)."""
        if not member.consent:
            raise NotAnalysed(f"{member.name} has not agreed to analysis")
        await self.close(member.id)
        servers = [RTCIceServer(url) for url in self._settings.ice_server_urls]
        connection = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        taps: list[FrameTap] = []
        self._peers[member.id] = (connection, taps, lost)
        METRICS.peers.set(len(self._peers))

        @connection.on("track")
        def on_track(track) -> None:
            tap = FrameTap(track, room.session_id, member.id, self._publisher.frame,
                           self._publisher.over_budget, self._settings.sample_fps,
                           self._settings.track_silence_s, self._settings.jpeg_quality,
                           self._settings.frame_max_width)
            taps.append(tap)
            tap.start()
            watcher = asyncio.ensure_future(self._ended_when_silent(member.id, connection,
                                                                    tap))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)

        @connection.on("connectionstatechange")
        async def on_state() -> None:
            if connection.connectionState in ("failed", "closed"):
                await self._ended(member.id, connection)

        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            await connection.setLocalDescription(await connection.createAnswer())
        except InvalidStateError:  # ``close`` closed it meanwhile
            raise NotAnalysed(f"the analysis of {member.name} stopped as it was set up") from None
        return connection.localDescription.sdp

    async def close(self, member_id: uuid.UUID) -> None:
        """Stop analysing this participant at once and free the connection."""
        connection, taps, _ = self._peers.pop(member_id, (None, [], None))
        METRICS.peers.set(len(self._peers))
        for tap in taps:
            await tap.stop()
        if connection is not None:
            await connection.close()

    async def close_all(self) -> None:
        for member_id in list(self._peers):
            await self.close(member_id)

    async def _ended_when_silent(self, member_id: uuid.UUID, connection: RTCPeerConnection,
                                 tap: FrameTap) -> None:
        await tap.closed.wait()
        await self._ended(member_id, connection)

    async def _ended(self, member_id: uuid.UUID, connection: RTCPeerConnection) -> None:
        """``connection`` ended on its own, unless ingest closed or replaced it (then it is no
        longer this participant's): close it, and say it was lost."""
        peer = self._peers.get(member_id)
        if peer is None or peer[0] is not connection:
            return
        await self.close(member_id)
        await peer[2]()
