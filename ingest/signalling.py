"""The room's WebSocket: joining, consent, the browsers' peer-to-peer signalling, leaving.

Messages are JSON objects with a ``type``. From the browser: ``join`` {invitation?, name,
consent, rejoin?} (the role and a consultant's name come from the admission, ingest/admission.py,
never from the browser), ``signal`` {to, description}, ``consent`` {given}, ``end`` (consultants
only: ends the session and closes the room). From the server: ``joined`` {id, key, session,
peers, analysis, iceServers, emotions, colours, sfu, published},
``peer-joined``, ``peer-left``, ``peer-consent``, ``signal`` {from, description}, ``live`` (to
consultants), ``ended`` {message?} (also the answer to a rejoin of an ended session),
``error`` {message}. Through the SFU (``sfu`` true in ``joined``): ``publish``,
``subscribe``, ``subscribed`` from the browser and ``published``, ``subscription``,
``peer-published`` from the server (ingest/sfu.py). Peer to peer: a consultant offers a call
to every other participant present when they join and to every client or student who joins
later; clients and students connect only to consultants.
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

from contracts.invitations import NotAdmitted, close_room
from contracts.labels import COLOURS, EMOTIONS
from contracts.settings import Settings
from ingest.admission import Gate, client_address, same_origin
from ingest.analysis import AnalysisPeers
from ingest.ice import ice_servers
from ingest.janus import JanusError
from ingest.rooms import Member, Room, RoomError, Rooms, SessionEnded
from ingest.sfu import Sfu

MAX_MESSAGE_BYTES = 64 * 1024
SFU_MESSAGES = ("publish", "subscribe", "subscribed")
log = logging.getLogger("econsult.ingest")


class Signalling:
    def __init__(self, rooms: Rooms, peers: AnalysisPeers, gate: Gate, settings: Settings,
                 sfu: Sfu | None = None) -> None:
        self.rooms, self.peers, self.gate, self.settings = rooms, peers, gate, settings
        self.sfu = sfu
        self._per_client: Counter[str] = Counter()

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        client = client_address(request, self.settings.trusted_proxies)
        if self._per_client[client] >= self.settings.connections_per_client:
            raise web.HTTPTooManyRequests(text=f"at most {self.settings.connections_per_client} "
                                               "room connections from one address")
        if not same_origin(request):
            raise web.HTTPForbidden(text="this room refuses connections from other sites' pages")
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
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
        room, member = self.rooms.join(
            entry.room.name, entry.name or str(data.get("name", "")), entry.role,
            bool(data.get("consent")), send, rejoin, entry.room.consultant, entry.room.id)
        others = [m.public() for m in room.present()]
        await send({"type": "joined", "id": str(member.id), "key": member.key,
                    "session": str(room.session_id), "peers": others,
                    "iceServers": ice_servers(self.settings, str(member.id)),
                    "analysis": {"width": self.settings.analysis_width,
                                 "fps": self.settings.analysis_fps},
                    "emotions": list(EMOTIONS), "colours": COLOURS,
                    "sfu": self.sfu is not None,
                    "published": self.sfu.published_feeds(room) if self.sfu else []})
        member.ready = True
        await _broadcast(room, {"type": "peer-joined", "peer": member.public()}, but=member)
        return room, member

    async def _handle(self, room: Room, member: Member, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind in SFU_MESSAGES:
            await self._handle_sfu(room, member, data)
        elif kind == "signal":
            target = room.members.get(uuid.UUID(data["to"]))
            if target is None or not target.connected:
                raise RoomError("that participant is not in the room")
            await target.send({"type": "signal", "from": str(member.id),
                               "description": data["description"]})
        elif kind == "consent":
            given = bool(data["given"]) and member.role != "consultant"
            if not given:  # analysis stops now, not at the next frame
                await (self.sfu.stop_analysing(room, member) if self.sfu
                       else self.peers.close(member.id))
            self.rooms.set_consent(room, member, given)
            if given and self.sfu:
                await self.sfu.analyse(room, member)
            await _broadcast(room, {"type": "peer-consent", "id": str(member.id),
                                    "consent": given})
        elif kind == "end" and member.role == "consultant":
            await self._close(room)  # first: no one opening a link meanwhile starts anew
            await _broadcast(room, {"type": "ended"})
            for someone in room.members.values():
                await self.peers.close(someone.id)
            self.rooms.end(room)
            if self.sfu:
                await self.sfu.end(room)
        else:
            raise RoomError(f"unknown message type {kind!r}")

    async def _handle_sfu(self, room: Room, member: Member, data: dict[str, Any]) -> None:
        """``publish`` {sdp} → ``published`` {sdp}, and everyone else hears ``peer-published``;
        ``subscribe`` {feed, substream?} → ``subscription`` {feed, sdp} (Janus's offer);
        ``subscribed`` {feed, sdp} (the answer) starts the relaying."""
        if self.sfu is None:
            raise RoomError("this room's calls are peer to peer: there is no SFU to use")
        kind = data["type"]
        if kind == "publish":
            answer = await self.sfu.publish(room, member, str(data["sdp"]))
            await member.send({"type": "published", "sdp": answer})
            await self.sfu.published(room, member)
            await _broadcast(room, {"type": "peer-published", "id": str(member.id)}, but=member)
            return
        feed = uuid.UUID(str(data["feed"]))
        if kind == "subscribe":
            substream = data.get("substream")
            offer = await self.sfu.subscribe(room, member, feed,
                                             int(substream) if substream is not None else None)
            await member.send({"type": "subscription", "feed": str(feed), "sdp": offer})
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

    async def _leave(self, room: Room, member: Member) -> None:
        await (self.sfu.leave(room, member) if self.sfu else self.peers.close(member.id))
        if member.connected:
            self.rooms.leave(room, member)
            await _broadcast(room, {"type": "peer-left", "id": str(member.id)})
        if room.ended and self.sfu:
            await self.sfu.end(room)


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
