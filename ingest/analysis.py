"""Analysis streams: each consenting participant's browser sends the server a small, slow copy
of its camera on a peer connection of its own, or, when calls go through the SFU
(ingest/sfu.py), the SFU relays the small layer of the video they publish; either way only
consenting participants' video reaches here, and nothing else of the call."""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

from contracts.settings import Settings
from ingest.metrics import METRICS
from ingest.publisher import StreamPublisher
from ingest.rooms import Member, Room
from ingest.tap import FrameTap

log = logging.getLogger("econsult.ingest")
MAX_SDP_BYTES = 20_000


class OfferError(ValueError):
    """An analysis offer the server will not answer; the message says why."""


class AnalysisPeers:
    def __init__(self, settings: Settings, publisher: StreamPublisher) -> None:
        self._settings = settings
        self._publisher = publisher
        self._peers: dict[uuid.UUID, tuple[RTCPeerConnection, list[FrameTap]]] = {}
        self._watchers: set[asyncio.Future] = set()

    def __len__(self) -> int:
        return len(self._peers)

    async def answer(self, room: Room, member: Member, sdp: str) -> str:
        """Answer a participant's offer; an earlier analysis connection of theirs is replaced."""
        _check_offer(sdp)
        return await self.answer_relayed(room, member, sdp)

    async def answer_relayed(self, room: Room, member: Member, sdp: str) -> str:
        """Answer an offer of the participant's video relayed by the SFU, which econsult
        trusts (a browser's offer is checked first: ``answer``); an earlier analysis connection
        of theirs is replaced."""
        if not member.consent:
            raise PermissionError(f"{member.name} has not agreed to analysis")
        await self.close(member.id)
        servers = [RTCIceServer(url) for url in self._settings.ice_server_urls]
        connection = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        taps: list[FrameTap] = []
        self._peers[member.id] = (connection, taps)
        METRICS.peers.set(len(self._peers))

        @connection.on("track")
        def on_track(track) -> None:
            tap = FrameTap(track, room.session_id, member.id, self._publisher.frame,
                           self._publisher.over_budget, self._settings.sample_fps,
                           self._settings.track_silence_s, self._settings.jpeg_quality,
                           self._settings.frame_max_width)
            taps.append(tap)
            tap.start()
            watcher = asyncio.ensure_future(self._close_when_silent(member.id, tap))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)

        @connection.on("connectionstatechange")
        async def on_state() -> None:
            if connection.connectionState in ("failed", "closed"):
                await self.close(member.id)

        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
            await connection.setLocalDescription(await connection.createAnswer())
        except (ValueError, TypeError) as exc:
            await self.close(member.id)
            raise OfferError(f"the offer could not be used: {exc}") from None
        return connection.localDescription.sdp

    async def close(self, member_id: uuid.UUID) -> None:
        """Stop analysing this participant at once and free the connection."""
        connection, taps = self._peers.pop(member_id, (None, []))
        METRICS.peers.set(len(self._peers))
        for tap in taps:
            await tap.stop()
        if connection is not None:
            await connection.close()

    async def close_all(self) -> None:
        for member_id in list(self._peers):
            await self.close(member_id)

    async def _close_when_silent(self, member_id: uuid.UUID, tap: FrameTap) -> None:
        await tap.closed.wait()
        peer = self._peers.get(member_id)
        if peer is not None and tap in peer[1]:
            await self.close(member_id)


def _check_offer(sdp: str) -> None:
    if len(sdp.encode()) > MAX_SDP_BYTES:
        raise OfferError(f"the offer is larger than {MAX_SDP_BYTES} bytes")
    if not sdp.startswith("v=0"):
        raise OfferError("the offer is not an SDP session description")
    media = [line.split()[0][2:] for line in sdp.splitlines() if line.startswith("m=")]
    if media != ["video"]:
        raise OfferError(f"an analysis offer carries exactly one video track, not {media}")
