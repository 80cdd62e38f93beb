"""Analysis streams: the SFU (ingest/sfu.py) relays the small layer of the camera of each
participant who agreed to face analysis, and the microphone of each who agreed to voice analysis,
each to a peer connection of ingest's own: frames are sampled for the workers (ingest/tap.py),
sound is reduced to when they speak (ingest/voice_tap.py) and then forgotten. Only what
participants agreed to reaches here, and nothing else of the call; the two analyses of one
person stand apart, so that one failing never stops the other."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidStateError

from contracts.consent import Analysis
from contracts.settings import Settings
from ingest.metrics import METRICS
from ingest.publisher import StreamPublisher
from ingest.rooms import Member, Room
from ingest.talk import Talk
from ingest.tap import FrameTap
from ingest.voice_tap import VoiceTap

log = logging.getLogger("econsult.ingest")
# Janus offers to stamp each packet with its send time so that the receiver can estimate the
# bandwidth (REMB); aiortc then runs its estimator and sends an RTCP packet for nearly every
# one it receives: over a third of ingest's time in a class (`econsult bench class`), for a
# link that carries one small layer. Ingest declines it, and Janus sends no such stamps.
SEND_TIME_EXTENSION = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
Lost = Callable[[], Awaitable[None]]
Tap = FrameTap | VoiceTap


class NotAnalysed(Exception):
    """The participant is not to be analysed: they have not agreed, or ingest stopped analysing
    them (they withdrew, left or published anew) while their connection was being set up."""


class AnalysisPeers:
    def __init__(self, settings: Settings, publisher: StreamPublisher, talk: Talk) -> None:
        self._settings = settings
        self._publisher = publisher
        self._talk = talk
        # Each analysis of each participant: its connection, its taps, and what to do if it
        # ends on its own.
        self._peers: dict[tuple[uuid.UUID, Analysis],
                          tuple[RTCPeerConnection, list[Tap], Lost]] = {}
        self._watchers: set[asyncio.Future] = set()

    def __len__(self) -> int:
        return len(self._peers)

    def analysing(self, member_id: uuid.UUID, analysis: Analysis) -> bool:
        return (member_id, analysis) in self._peers

    async def answer(self, room: Room, member: Member, analysis: Analysis, sdp: str,
                     lost: Lost) -> str:
        """Answer the SFU's offer of what ``analysis`` of ``member`` needs (their video or their
        audio); an earlier connection of theirs for it is replaced. ``lost`` is awaited if the
        connection ends without ingest closing it (it failed, the SFU hung up, or its stream
        went silent)."""
        if analysis not in member.consent:
            raise NotAnalysed(f"{member.name} has not agreed to {analysis} analysis")
        await self.close(member.id, analysis)
        servers = [RTCIceServer(url) for url in self._settings.ice_server_urls]
        connection = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        taps: list[Tap] = []
        key = (member.id, analysis)
        self._peers[key] = (connection, taps, lost)
        METRICS.peers.set(len(self._peers))

        @connection.on("track")
        def on_track(track) -> None:
            tap = (self._frame_tap(room, member, track) if analysis == "face"
                   else VoiceTap(track, room, member, self._publisher.room_event, self._talk,
                                 self._settings.track_silence_s))
            taps.append(tap)
            tap.start()
            watcher = asyncio.ensure_future(self._ended_when_silent(key, connection, tap))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)

        @connection.on("connectionstatechange")
        async def on_state() -> None:
            if connection.connectionState in ("failed", "closed"):
                await self._ended(key, connection)

        try:
            await connection.setRemoteDescription(
                RTCSessionDescription(without_send_times(sdp), "offer"))
            await connection.setLocalDescription(await connection.createAnswer())
        except InvalidStateError:  # ``close`` closed it meanwhile
            raise NotAnalysed(f"the analysis of {member.name} stopped as it was set up") from None
        return connection.localDescription.sdp

    def _frame_tap(self, room: Room, member: Member, track) -> FrameTap:
        return FrameTap(track, room.session_id, member.id, self._publisher.frame,
                        self._publisher.over_budget, self._settings.sample_fps,
                        self._settings.track_silence_s, self._settings.jpeg_quality,
                        self._settings.frame_max_width)

    async def close(self, member_id: uuid.UUID, analysis: Analysis) -> None:
        """Stop this analysis of this participant at once and free its connection."""
        connection, taps, _ = self._peers.pop((member_id, analysis), (None, [], None))
        METRICS.peers.set(len(self._peers))
        for tap in taps:
            await tap.stop()
        if connection is not None:
            await connection.close()

    async def close_all(self) -> None:
        for member_id, analysis in list(self._peers):
            await self.close(member_id, analysis)

    async def _ended_when_silent(self, key: tuple[uuid.UUID, Analysis],
                                 connection: RTCPeerConnection, tap: Tap) -> None:
        await tap.closed.wait()
        await self._ended(key, connection)

    async def _ended(self, key: tuple[uuid.UUID, Analysis],
                     connection: RTCPeerConnection) -> None:
        """``connection`` ended on its own, unless ingest closed or replaced it (then it is no
        longer this analysis's): close it, and say it was lost."""
        peer = self._peers.get(key)
        if peer is None or peer[0] is not connection:
            return
        await self.close(*key)
        await peer[2]()


def without_send_times(sdp: str) -> str:
    """``sdp`` without the offer of send-time stamps (``SEND_TIME_EXTENSION``)."""
    return "".join(line for line in sdp.splitlines(keepends=True)
                   if not (line.startswith("a=extmap:") and SEND_TIME_EXTENSION in line))
