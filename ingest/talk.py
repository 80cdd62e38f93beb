"""Who is speaking in each live room, as ingest's voice taps hear it, told to its consultants.

Ingest keeps each live room's speech segments (times only) and, whenever one starts, grows or
ends, and every :data:`TELL_EVERY_S` besides (a silence lengthens without any), sends the room's
consultants a ``speech`` message: who is speaking now, everyone's share of the talk over the
last :data:`contracts.speech.RECENT_S` and the whole session, who has spoken at all, and the
hints of contracts.speech. Measures are those of contracts.speech, as reports compute them in
SQL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from contracts.speech import RECENT_S, Segment, hints, talk_share
from ingest.rooms import Member, Room, Rooms

TELL_EVERY_S = 5.0


class Talk:
    def __init__(self) -> None:
        # Per session: each segment by (participant, capture, seq), in wall-clock seconds.
        self._segments: dict[uuid.UUID, dict[tuple[uuid.UUID, uuid.UUID, int], Segment]] = {}
        # Per session: who is speaking now (a segment of theirs is going on).
        self._speaking: dict[uuid.UUID, set[uuid.UUID]] = {}

    async def heard(self, room: Room, member: Member, capture: uuid.UUID, seq: int,
                    start: float, end: float, ongoing: bool) -> None:
        """A segment of ``member`` started, grew or ended: the consultants hear of it."""
        self._segments.setdefault(room.session_id, {})[(member.id, capture, seq)] = Segment(
            start, end, member.id)
        speaking = self._speaking.setdefault(room.session_id, set())
        (speaking.add if ongoing else speaking.discard)(member.id)
        await self.tell(room)

    async def stopped(self, room: Room, member: Member) -> None:
        """``member``'s voice is no longer analysed: they are not speaking, as far as we know."""
        self._speaking.get(room.session_id, set()).discard(member.id)
        await self.tell(room)

    def view(self, room: Room, now: float) -> dict[str, Any]:
        segments = list(self._segments.get(room.session_id, {}).values())
        analysed = [m for m in room.members.values() if "voice" in m.consent or any(
            s.participant == m.id for s in segments)]
        return {
            "type": "speech",
            "speaking": sorted(str(who) for who in self._speaking.get(room.session_id, ())),
            "recent": _shares(talk_share(segments, since=now - RECENT_S, until=now)),
            "session": _shares(talk_share(segments)),
            "spoken": sorted({str(s.participant) for s in segments}),
            "hints": hints(segments, {m.id: m.role for m in analysed},
                           {m.id: m.name for m in analysed}, now),
        }

    async def tell(self, room: Room) -> None:
        if room.session_id not in self._segments and room.session_id not in self._speaking:
            return
        message = self.view(room, time.time())
        for consultant in room.consultants():
            await consultant.send(message)

    async def keep_telling(self, rooms: Rooms) -> None:
        """Runs for the life of the service: silences lengthen, and hints come and go, without
        anyone speaking."""
        while True:
            await asyncio.sleep(TELL_EVERY_S)
            for room in list(rooms.by_name.values()):
                await self.tell(room)
            live = {room.session_id for room in rooms.by_name.values()}
            for session_id in set(self._segments) - live:
                self._segments.pop(session_id, None)
                self._speaking.pop(session_id, None)


def _shares(shares: dict) -> dict[str, float]:
    return {str(who): round(share, 1) for who, share in shares.items()}
