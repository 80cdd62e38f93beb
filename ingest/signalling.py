"""The room's WebSocket: joining, consent, the browsers' peer-to-peer signalling, leaving.

Messages are JSON objects with a ``type``. From the browser: ``join`` {name, role, consent,
rejoin?}, ``signal`` {to, description}, ``consent`` {given}, ``end`` (consultant only). From
the server: ``joined`` {id, session, peers, analysis, iceServers, emotions, colours},
``peer-joined``, ``peer-left``, ``peer-consent``, ``signal`` {from, description}, ``live`` (to
consultants), ``ended`` {message?} (also the answer to a rejoin of an ended session),
``error`` {message}. The consultant offers a call to every other
participant; clients and students connect only to the consultant.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from typing import Any

from aiohttp import WSMsgType, web

from contracts.labels import COLOURS, EMOTIONS
from contracts.settings import Settings
from ingest.analysis import AnalysisPeers
from ingest.rooms import Member, Room, RoomError, Rooms, SessionEnded

MAX_MESSAGE_BYTES = 64 * 1024


class Signalling:
    def __init__(self, rooms: Rooms, peers: AnalysisPeers, settings: Settings) -> None:
        self.rooms, self.peers, self.settings = rooms, peers, settings
        self._per_client: Counter[str] = Counter()

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        client = request.remote or "unknown"
        if self._per_client[client] >= self.settings.connections_per_client:
            raise web.HTTPTooManyRequests(text=f"at most {self.settings.connections_per_client} "
                                               "room connections from one address")
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        room_name = request.match_info["room"]
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
                        joined = await self._join(room_name, data, _sender(ws))
                    else:
                        await self._handle(*joined, data)
                except SessionEnded as exc:
                    await _sender(ws)({"type": "ended", "message": str(exc)})
                    break
                except (RoomError, ValueError, KeyError, TypeError) as exc:
                    await _sender(ws)({"type": "error", "message": str(exc)})
        finally:
            self._per_client[client] -= 1
            if joined is not None:
                await self._leave(*joined)
        return ws

    async def _join(self, room_name: str, data: dict[str, Any], send: Any) -> tuple[Room, Member]:
        if data.get("type") != "join":
            raise RoomError("join the room first")
        rejoin = uuid.UUID(data["rejoin"]) if data.get("rejoin") else None
        room, member = self.rooms.join(room_name, str(data.get("name", "")),
                                       str(data.get("role", "")), bool(data.get("consent")),
                                       send, rejoin)
        others = [m.public() for m in room.present()]
        await send({"type": "joined", "id": str(member.id), "session": str(room.session_id),
                    "peers": others,
                    "iceServers": self.settings.ice_server_urls,
                    "analysis": {"width": self.settings.analysis_width,
                                 "fps": self.settings.analysis_fps},
                    "emotions": list(EMOTIONS), "colours": COLOURS})
        member.ready = True
        await _broadcast(room, {"type": "peer-joined", "peer": member.public()}, but=member)
        return room, member

    async def _handle(self, room: Room, member: Member, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "signal":
            target = room.members.get(uuid.UUID(data["to"]))
            if target is None or not target.connected:
                raise RoomError("that participant is not in the room")
            await target.send({"type": "signal", "from": str(member.id),
                               "description": data["description"]})
        elif kind == "consent":
            given = bool(data["given"]) and member.role != "consultant"
            if not given:
                await self.peers.close(member.id)  # analysis stops now, not at the next frame
            self.rooms.set_consent(room, member, given)
            await _broadcast(room, {"type": "peer-consent", "id": str(member.id),
                                    "consent": given})
        elif kind == "end" and member.role == "consultant":
            await _broadcast(room, {"type": "ended"})
            for someone in room.members.values():
                await self.peers.close(someone.id)
            self.rooms.end(room)
        else:
            raise RoomError(f"unknown message type {kind!r}")

    async def _leave(self, room: Room, member: Member) -> None:
        await self.peers.close(member.id)
        if member.connected:
            self.rooms.leave(room, member)
            await _broadcast(room, {"type": "peer-left", "id": str(member.id)})


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
