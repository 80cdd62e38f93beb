"""The room's WebSocket: joining, consent, the call's signalling through the SFU, leaving.

Messages are JSON objects with a ``type``. From the browser: ``join`` {invitation?, name,
consent: {face, voice}, rejoin?} (the role and a consultant's name come from the admission,
ingest/admission.py, never from the browser), ``publish`` {sdp} (the camera's and microphone's
offer; again, replacing it, when the page's connection to the SFU dropped), ``subscribe``
{feed, substream?, ref?}, ``subscribed`` {feed, sdp} (the answer to a subscription's offer),
``unsubscribe`` {feed} (a teacher's gallery watches the students on screen only),
``consent`` {analysis: face|voice, given}, ``microphone`` {state: on|muted|none}, ``end``
(consultants only: ends the session and closes the room). From the server: ``joined`` {id,
session, peers, published, iceServers, layers (the simulcast layers to publish in:
ingest/layers.py), emotions, colours}, ``published`` {sdp} (the SFU's answer),
``subscription`` {feed, sdp, ref?} (the SFU's offer; ``ref`` as the page gave it, to tell an
offer it no longer waits for), ``peer-joined``, ``peer-published`` (also when they published
anew: watch them again), ``peer-left``, ``peer-consent`` {id, consent: {face, voice}},
``peer-microphone`` {id, state}, ``reconnect`` {message} (the SFU lost the call: publish
again), ``live`` {readings} (a worker's batch of them: ingest/feedback.py) and ``speech``
(ingest/talk.py), both to consultants only, ``ended`` {message?} (also the answer to a
rejoin of an ended session), ``error`` {message}. Every browser publishes its camera once; a
consultant watches everyone, clients and students watch the consultants (ingest/sfu.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import Counter
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import OperationalError

from contracts.consent import ANALYSES, Analysis
from contracts.invitations import NotAdmitted, close_room
from contracts.labels import COLOURS, EMOTIONS
from contracts.proxy import client_address
from contracts.settings import Settings
from ingest import layers
from ingest.admission import Gate, same_origin
from ingest.ice import ice_servers
from ingest.janus import JanusError
from ingest.placement import Placement
from ingest.rooms import MICROPHONES, Member, Room, RoomError, Rooms, SessionEnded
from ingest.sfu import Sfu

MAX_MESSAGE_BYTES = 64 * 1024
log = logging.getLogger("econsult.ingest")


class Signalling:
    def __init__(self, rooms: Rooms, gate: Gate, settings: Settings, sfu: Sfu,
                 placement: Placement) -> None:
        self.rooms, self.gate, self.settings, self.sfu = rooms, gate, settings, sfu
        self.placement = placement
        self._per_client: Counter[str] = Counter()
        # Each member's wait for their video to come up in Janus (``_announce``).
        self._announcing: dict[uuid.UUID, asyncio.Task] = {}

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        client = client_address(request.remote, request.headers.get("X-Forwarded-For", ""),
                                self.settings.trusted_proxies)
        if self._per_client[client] >= self.settings.connections_per_client:
            raise web.HTTPTooManyRequests(text=f"at most {self.settings.connections_per_client} "
                                               "room connections from one address")
        if not same_origin(request):
            raise web.HTTPForbidden(text="this room refuses connections from other sites' pages")
        # Uncompressed: its messages are small, and deflating each of a class's live readings
        # cost ingest more than sending it.
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES, compress=False)
        await ws.prepare(request)
        joined: tuple[Room, Member] | None = None
        self._per_client[client] += 1
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                    if not isinstance(data, dict):
                        raise RoomError("messages are JSON objects")
                    if joined is None:
                        joined = await self._join(request, data, _sender(ws))
                    else:
                        await self._handle(*joined, data)
                except SessionEnded as exc:
                    await _sender(ws)({"type": "ended", "message": str(exc)})
                    break
                except (RoomError, JanusError, ValueError, KeyError, TypeError) as exc:
                    await _sender(ws)({"type": "error", "message": str(exc)})
        finally:
            self._per_client[client] -= 1
            if joined is not None:
                await self._leave(*joined)
        return ws

    async def _join(self, request: web.Request, data: dict[str, Any],
                    send: Any) -> tuple[Room, Member]:
        if data.get("type") != "join":
            raise RoomError("join the room first")
        try:
            entry = await self.gate.admit(request, data.get("invitation"))
        except NotAdmitted as exc:
            raise RoomError(str(exc)) from None
        rejoin = uuid.UUID(data["rejoin"]) if data.get("rejoin") else None
        await self.placement.hold(entry.room.name)
        room, member = self.rooms.join(
            entry.room.name, entry.name or str(data.get("name", "")), entry.role,
            _agreed(data.get("consent")), send, rejoin, entry.room.consultant, entry.room.id)
        others = [m.public() for m in room.present()]
        await send({"type": "joined", "id": str(member.id), "session": str(room.session_id),
                    "peers": others, "published": self.sfu.published_feeds(room),
                    "iceServers": ice_servers(self.settings, str(member.id)),
                    "layers": layers.FOR_THE_PAGE,
                    "emotions": list(EMOTIONS), "colours": COLOURS})
        member.ready = True
        await _broadcast(room, {"type": "peer-joined", "peer": member.public()}, but=member)
        return room, member

    async def _handle(self, room: Room, member: Member, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind in ("publish", "subscribe", "subscribed", "unsubscribe"):
            await self._media(room, member, data)
        elif kind == "consent":
            analysis, given = _analysis(data.get("analysis", "face")), bool(data["given"])
            if not given:  # analysis stops now, not at the next frame
                await self.sfu.stop_analysing(room, member, analysis)
            self.rooms.set_consent(room, member, analysis, given)
            if given:
                await self.sfu.analyse(room, member)
            await _broadcast(room, {"type": "peer-consent", "id": str(member.id),
                                    "consent": member.public()["consent"]})
        elif kind == "microphone":
            state = str(data.get("state"))
            if state not in MICROPHONES:
                raise RoomError(f"a microphone is {', '.join(MICROPHONES)}, not {state[:20]!r}")
            member.microphone = state
            await _broadcast(room, {"type": "peer-microphone", "id": str(member.id),
                                    "state": state}, but=member)
        elif kind == "end" and member.role == "consultant":
            await self._close(room)  # first: no one opening a link meanwhile starts anew
            await _broadcast(room, {"type": "ended"})
            self.rooms.end(room)
            await self._ended(room)
        else:
            raise RoomError(f"unknown message type {kind!r}")

    async def _media(self, room: Room, member: Member, data: dict[str, Any]) -> None:
        """``publish`` {sdp} → ``published`` {sdp}, and everyone else hears ``peer-published``
        once the video is up; ``subscribe`` {feed, substream?} → ``subscription`` {feed, sdp}
        (Janus's offer); ``subscribed`` {feed, sdp} (the answer) starts the relaying."""
        kind = data["type"]
        if kind == "publish":
            answer = await self.sfu.publish(room, member, str(data["sdp"]))
            await member.send({"type": "published", "sdp": answer})
            # Awaited apart: meanwhile the member's next messages (a withdrawal) count at once.
            self._cancel_announcing(member)
            self._announcing[member.id] = asyncio.create_task(self._announce(room, member))
            return
        feed = uuid.UUID(str(data["feed"]))
        if kind == "subscribe":
            substream = data.get("substream")
            offer = await self.sfu.subscribe(room, member, feed,
                                             int(substream) if substream is not None else None)
            await member.send({"type": "subscription", "feed": str(feed), "sdp": offer,
                               "ref": _ref(data.get("ref"))})
        elif kind == "unsubscribe":
            await self.sfu.unsubscribe(room, member, feed)
        else:
            await self.sfu.answer(room, member, feed, str(data["sdp"]))

    async def _close(self, room: Room) -> None:
        """Close the room as set up: its invitations open nothing from now on."""
        if room.room_id is None:
            return
        try:
            await asyncio.to_thread(close_room, self.gate.engine, room.room_id)
        except OperationalError:
            log.warning("room %s ended but could not be closed in PostgreSQL (unreachable): "
                        "close it from the dashboard", room.name)

    async def _announce(self, room: Room, member: Member) -> None:
        """Once ``member``'s video is up in Janus (and analysed, if they consent), everyone
        else hears of it."""
        try:
            await self.sfu.published(room, member)
        except (RoomError, JanusError) as exc:
            await member.send({"type": "error", "message": str(exc)})
            return
        await _broadcast(room, {"type": "peer-published", "id": str(member.id)}, but=member)

    def _cancel_announcing(self, member: Member) -> None:
        task = self._announcing.pop(member.id, None)
        if task is not None:
            task.cancel()

    async def _leave(self, room: Room, member: Member) -> None:
        self._cancel_announcing(member)
        await self.sfu.leave(room, member)
        if member.connected:
            self.rooms.leave(room, member)
            await _broadcast(room, {"type": "peer-left", "id": str(member.id)})
        if room.ended:
            await self._ended(room)

    async def _ended(self, room: Room) -> None:
        """Free what an ended room held: its Janus room, its placement."""
        await self.sfu.end(room)
        await self.placement.release(room.name)


def _analysis(value: object) -> Analysis:
    if value not in ANALYSES:
        raise RoomError(f"analysis is one of {', '.join(ANALYSES)}, not {str(value)[:20]!r}")
    return value  # type: ignore[return-value]


def _agreed(consent: object) -> set[Analysis]:
    """The analyses a join agrees to: {face: bool, voice: bool}; ``true`` alone, as pages sent
    before voice analysis existed, agrees to face analysis only."""
    if isinstance(consent, dict):
        return {_analysis(name) for name, given in consent.items() if given is True}
    return {"face"} if consent is True else set()


def _ref(value: Any) -> int | None:
    """A page's number for one of its subscriptions, given back with the SFU's offer."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise RoomError("a subscription's ref is a whole number")
    return value


def _sender(ws: web.WebSocketResponse) -> Any:
    async def send(message: dict[str, Any]) -> None:
        if not ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await ws.send_json(message)
    return send


async def _broadcast(room: Room, message: dict[str, Any], but: Member | None = None) -> None:
    for member in room.present():
        if member is not but:
            await member.send(message)
