"""Calls through the SFU (Janus, ``ECONSULT_JANUS_URL``): each participant publishes their camera
and microphone once, others subscribe to what they send, and ingest subscribes to the small
layer of the video of each participant who agreed to face analysis (only as many of its frames
as sampling needs: ingest/layers.py), and to the audio of each who agreed to voice analysis, and
to nothing else.

Only ingest talks to Janus (ingest/janus.py): browsers send their offers and answers over the
room's WebSocket (ingest/signalling.py). Each econsult session is one Janus room, named by the
session's id, created with the admin key when the session starts and destroyed when it ends;
each participant is a feed named by their id. One Janus session per room holds the handles:
one per PeerConnection (a participant's publisher, each of their subscriptions, ingest's
subscription for each analysis).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import RTCSessionDescription

from contracts.consent import ANALYSES, Analysis
from contracts.settings import Settings
from ingest.analysis import AnalysisPeers, NotAnalysed
from ingest.janus import ROOM_EXISTS, Handle, JanusError, JanusSession
from ingest.layers import SMALL_LAYER, temporal_layer_for
from ingest.rooms import Member, Room, RoomError
from ingest.videoroom import (
    create_room,
    destroy_room,
    list_rooms,
    publish,
    start,
    subscribe,
)

log = logging.getLogger("econsult.ingest")
# The viewer of ingest's own subscriptions for each analysis, and the stream each takes.
VIEWERS: dict[Analysis, str] = {"face": "analysis", "voice": "voice"}
STREAMS: dict[Analysis, str] = {"face": "video", "voice": "audio"}
PUBLISH_TIMEOUT_S = 30.0  # from Janus's answer to the publisher's media being up
# Before subscribing again to a participant whose analysis connection ended on its own: it
# ends when ingest falls behind (its ICE checks go unanswered and Janus hangs up), so give it a
# moment first.
RESUBSCRIBE_AFTER_S = 1.0
LONGEST_RESUBSCRIBE_S = 4.0  # within the 10 s that Janus's recovery may take


@dataclass
class SfuRoom:
    janus: JanusSession
    name: str
    # (viewer, feed) → handle; a publisher is its own viewer; ingest's are VIEWERS.
    handles: dict[tuple[str, str], Handle] = field(default_factory=dict)
    # Each publisher's streams by kind (video, audio) → mid: an analysis subscribes to one.
    mids: dict[str, dict[str, str]] = field(default_factory=dict)
    # Publishers whose PeerConnection with Janus is up: only those can be subscribed to.
    live: set[str] = field(default_factory=set)


class Sfu:
    def __init__(self, settings: Settings, peers: AnalysisPeers) -> None:
        self._settings, self._peers = settings, peers
        self._http = aiohttp.ClientSession()
        self._rooms: dict[uuid.UUID, SfuRoom] = {}
        self._opening: dict[uuid.UUID, asyncio.Lock] = {}
        # One change at a time to each analysis of each participant: a subscription still under
        # way when they publish anew (Janus answering late after a freeze, say) is to their old
        # feed, and must be ended by the new publish, not taken for the new feed's.
        self._changing: dict[tuple[uuid.UUID, Analysis], asyncio.Lock] = {}
        self._background: set[asyncio.Task] = set()

    async def publish(self, room: Room, member: Member, offer: str) -> str:
        """Publish ``member``'s camera (their browser's offer); Janus's answer. Their feed can
        be watched once ``published`` says so.

        Publishing again (their page's connection dropped) replaces their feed: the old one
        goes, with its analysis, and the new one is watched and analysed once it is up."""
        sfu = await self._room(room)
        sfu.live.discard(str(member.id))
        await self.stop_analysing(room, member)
        handle = await self._handle(sfu, str(member.id), str(member.id))
        answer = await publish(handle, sfu.name, str(member.id),
                               RTCSessionDescription(offer, "offer"), display=member.name)
        sfu.mids[str(member.id)] = _mids(offer)
        return answer.sdp

    async def published(self, room: Room, member: Member) -> None:
        """Returns once ``member``'s feed is up in Janus (before, it cannot be subscribed to),
        analysing it from then on if they consent."""
        sfu = self._rooms[room.session_id]
        publisher = sfu.handles[(str(member.id), str(member.id))]
        try:
            await publisher.event("webrtcup", timeout_s=PUBLISH_TIMEOUT_S)
        except TimeoutError:
            raise RoomError(f"your video did not reach the call within {PUBLISH_TIMEOUT_S:.0f} "
                            "s: a firewall may block it (a TURN relay gets through)") from None
        sfu.live.add(str(member.id))
        await self.analyse(room, member)

    def published_feeds(self, room: Room) -> list[str]:
        """The participants whose video is up in Janus, for someone who joins now."""
        sfu = self._rooms.get(room.session_id)
        return sorted(sfu.live) if sfu else []

    async def subscribe(self, room: Room, viewer: Member, feed: uuid.UUID,
                        substream: int | None) -> str:
        """Janus's offer of ``feed``'s streams (one simulcast layer) for ``viewer``."""
        target = room.members.get(feed)
        if target is None or not target.connected:
            raise RoomError("that participant is not in the room")
        if "consultant" not in (viewer.role, target.role):
            raise RoomError("clients and students see the consultants only, not each other")
        sfu = await self._room(room)
        handle = await self._handle(sfu, str(viewer.id), str(feed))
        return (await subscribe(handle, sfu.name, str(feed), substream)).sdp

    async def unsubscribe(self, room: Room, viewer: Member, feed: uuid.UUID) -> None:
        """``viewer`` no longer watches ``feed``: Janus lets their subscription go."""
        sfu = self._rooms.get(room.session_id)
        if sfu is not None:
            await self._detach(sfu, str(viewer.id), str(feed))

    async def answer(self, room: Room, viewer: Member, feed: uuid.UUID, answer: str) -> None:
        """The viewer's answer to the offer of ``feed``: Janus starts relaying."""
        sfu = self._rooms.get(room.session_id)
        handle = sfu.handles.get((str(viewer.id), str(feed))) if sfu else None
        if handle is None:
            raise RoomError("subscribe to that participant first")
        await start(handle, RTCSessionDescription(answer, "answer"))

    async def analyse(self, room: Room, member: Member) -> None:
        """Subscribe ingest to what each analysis ``member`` agreed to needs and is not yet
        subscribed to; one failing does not keep the other from starting."""
        for analysis in sorted(member.consent):
            try:
                await self._analyse(room, member, analysis)
            except (JanusError, aiohttp.ClientError) as error:
                log.warning("could not start the %s analysis of %s: %s", analysis, member.id,
                            error)
                self._in_background(self._resubscribe(room, member, analysis))

    async def _analyse(self, room: Room, member: Member, analysis: Analysis) -> None:
        async with self._change(member, analysis):
            if not self._peers.analysing(member.id, analysis):
                await self._subscribe(room, member, analysis)

    async def _subscribe(self, room: Room, member: Member, analysis: Analysis) -> None:
        sfu = await self._room(room)
        feed = str(member.id)
        mid = sfu.mids.get(feed, {}).get(STREAMS[analysis])
        if feed not in sfu.live or mid is None or analysis not in member.consent:
            return  # nothing up yet (or no microphone): analysed once it is
        viewer = VIEWERS[analysis]
        handle = await self._handle(sfu, viewer, feed)
        if analysis == "face":  # the small layer, thinned to what sampling needs
            offer = await subscribe(handle, sfu.name, feed, SMALL_LAYER, mid,
                                    temporal_layer_for(self._settings.sample_fps))
        else:
            offer = await subscribe(handle, sfu.name, feed, mid=mid)
        try:
            answer = await self._peers.answer(
                room, member, analysis, offer.sdp,
                lost=lambda: self._analyse_again(room, member, analysis))
        except NotAnalysed:  # they withdrew meanwhile
            await self._detach(sfu, viewer, feed)
            return
        await start(handle, RTCSessionDescription(answer, "answer"))

    async def _analyse_again(self, room: Room, member: Member, analysis: Analysis) -> None:
        """Ingest's connection for ``analysis`` of ``member`` ended on its own: subscribe
        again, shortly."""
        log.warning("the %s analysis connection of %s in room %s ended; subscribing again in "
                    "%.0f s", analysis, member.id, room.name, RESUBSCRIBE_AFTER_S)
        self._in_background(self._resubscribe(room, member, analysis))

    async def _resubscribe(self, room: Room, member: Member, analysis: Analysis) -> None:
        """Subscribe again after a pause, and again, with a longer pause, while Janus does not
        answer (frozen, cut off); their feed gone, their next publish brings the analysis
        back."""
        pause = RESUBSCRIBE_AFTER_S
        while True:
            await asyncio.sleep(pause)  # a pause between tries, not a wait for anything
            if room.ended or not member.connected or room.session_id not in self._rooms:
                return
            try:
                await self._analyse(room, member, analysis)
                return
            except (JanusError, aiohttp.ClientError) as error:
                if isinstance(error, JanusError) and error.code is not None:
                    log.warning("could not subscribe again to %s: %s", member.id, error)
                    return
                pause = min(2 * pause, LONGEST_RESUBSCRIBE_S)
                log.warning("could not subscribe again to %s (%s); trying again in %.0f s",
                            member.id, error, pause)

    async def stop_analysing(self, room: Room, member: Member,
                             analysis: Analysis | None = None) -> None:
        """End ingest's subscription for ``analysis`` of ``member`` (every one, when None) at
        once, or as soon as a subscription under way is made: consent withdrawn, they left, or
        they publish anew."""
        for each in ANALYSES if analysis is None else (analysis,):
            async with self._change(member, each):
                await self._peers.close(member.id, each)
                sfu = self._rooms.get(room.session_id)
                if sfu is not None:
                    await self._detach(sfu, VIEWERS[each], str(member.id))

    async def leave(self, room: Room, member: Member) -> None:
        """Hang up everything of ``member``: their feed, their subscriptions, its analysis."""
        await self.stop_analysing(room, member)
        for analysis in ANALYSES:
            self._changing.pop((member.id, analysis), None)
        sfu = self._rooms.get(room.session_id)
        if sfu is None:
            return
        for viewer, feed in [key for key in sfu.handles if str(member.id) in key]:
            await self._detach(sfu, viewer, feed)
        sfu.mids.pop(str(member.id), None)
        sfu.live.discard(str(member.id))

    async def end(self, room: Room) -> None:
        """The session ended: destroy its Janus room (Janus hangs up everyone in it)."""
        sfu = self._rooms.pop(room.session_id, None)
        self._opening.pop(room.session_id, None)
        if sfu is None:
            return
        with contextlib.suppress(JanusError):
            await destroy_room(await sfu.janus.attach(), sfu.name,
                               admin_key=self._settings.janus_admin_key)
        await sfu.janus.close()

    async def sweep(self, held: Callable[[str], Awaitable[bool]]) -> None:
        """Destroy the Janus rooms of sessions no ingest holds any longer (``held`` says, by
        econsult room name): an ingest that crashed left them behind."""
        try:
            janus = await JanusSession.open(self._http, self._settings.janus_url)
        except (JanusError, aiohttp.ClientError) as error:
            log.warning("could not look for rooms left in Janus: %s", error)
            return
        try:
            handle = await janus.attach()
            key = self._settings.janus_admin_key
            for name, room in (await list_rooms(handle, admin_key=key)).items():
                if not await held(room):
                    log.info("destroying Janus room %s of room %s, which no ingest holds",
                             name, room)
                    await destroy_room(handle, name, admin_key=key)
        except JanusError as error:
            log.warning("could not clear the rooms left in Janus: %s", error)
        finally:
            await janus.close()

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        for session_id in list(self._rooms):
            room = self._rooms[session_id]
            await room.janus.close()
        self._rooms.clear()
        await self._http.close()

    async def _room(self, room: Room) -> SfuRoom:
        """The session's Janus room, created on first use (and again after Janus lost it)."""
        async with self._opening.setdefault(room.session_id, asyncio.Lock()):
            if room.session_id not in self._rooms:
                janus = await JanusSession.open(self._http, self._settings.janus_url)
                name = str(room.session_id)
                try:
                    await create_room(await janus.attach(), name,
                                      admin_key=self._settings.janus_admin_key,
                                      publishers=self._settings.room_capacity,
                                      description=room.name)
                except JanusError as error:
                    if error.code != ROOM_EXISTS:  # Janus timed out only ingest's session
                        await janus.close()
                        raise
                janus.on_lost = lambda error: self._in_background(self._reconnect(room, janus,
                                                                                  error))
                self._rooms[room.session_id] = SfuRoom(janus, name)
        return self._rooms[room.session_id]

    async def _reconnect(self, room: Room, janus: JanusSession, error: JanusError) -> None:
        """Janus lost the room's session (it restarted, say), and with it every PeerConnection
        of the room: everyone publishes and subscribes again, in a room created anew."""
        sfu = self._rooms.get(room.session_id)
        if sfu is None or sfu.janus is not janus or room.ended:
            return
        log.warning("Janus lost room %s (%s): everyone in it connects again", room.name, error)
        del self._rooms[room.session_id]
        for member in list(room.members.values()):
            for analysis in ANALYSES:
                await self._peers.close(member.id, analysis)
        for member in room.present():
            await member.send({"type": "reconnect",
                               "message": "the call's server restarted; connecting again"})

    def _change(self, member: Member, analysis: Analysis) -> asyncio.Lock:
        return self._changing.setdefault((member.id, analysis), asyncio.Lock())

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _handle(self, sfu: SfuRoom, viewer: str, feed: str) -> Handle:
        """A fresh handle for ``viewer``'s PeerConnection with ``feed`` (an earlier one goes)."""
        await self._detach(sfu, viewer, feed)
        handle = sfu.handles[(viewer, feed)] = await sfu.janus.attach()
        return handle

    async def _detach(self, sfu: SfuRoom, viewer: str, feed: str) -> None:
        handle = sfu.handles.pop((viewer, feed), None)
        if handle is not None:
            try:
                await handle.detach()
            except JanusError as error:  # gone already (Janus dropped the session): fine
                log.info("Janus handle %s: %s", handle.id, error)


def _mids(sdp: str) -> dict[str, str]:
    """The mid of the first section of each kind (video, audio) of an SDP: in a publisher's
    offer, their camera and their microphone."""
    mids: dict[str, str] = {}
    kind = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif kind is not None and line.startswith("a=mid:"):
            mids.setdefault(kind, line[len("a=mid:"):].strip())
    return mids
