"""Live rooms: who is in which room, and the room events that go on the stream for the record.

A room exists while someone is in it. Its session starts with the first join and ends when the
consultant ends it, the last participant leaves or ingest stops; every join, consent change and
leave is published as a room event, which the workers store. The rooms are the source of
truth for their sessions: after a Redis restart they announce their whole state again (the
workers' writes are idempotent), including rooms ended in the last ``RECENT_S``, whose last
events might not have been read yet. A session ended here stays ended: a page reloaded after
the end does not start another one for the same person.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.alert import AlertRule, RecentFaces
from contracts.baseline import PersonalReading
from contracts.consent import ANALYSES, Analysis
from contracts.invitations import ROOM_NAME
from contracts.quality import SmoothedScore
from contracts.room_events import ROLES, SESSION_ALIVE_S, RoomEvent
from contracts.smoothing import LiveReading

Send = Callable[[dict[str, Any]], Any]
RECENT_S = 600.0
ENDED_KEPT_S = 12 * 3600.0


class RoomError(ValueError):
    """A request the room cannot honour; the message is shown to the participant."""


class SessionEnded(RoomError):
    """The participant's session has ended; a new join would not be the same session."""


async def _nobody(message: dict[str, Any]) -> None:
    return None


# What each role may be asked to agree to: a consultant's face is never analysed (analysing the
# emotions of someone at work is what the EU AI Act forbids), their share of the talk is.
OFFERED: dict[str, tuple[Analysis, ...]] = {"consultant": ("voice",), "client": ANALYSES,
                                            "student": ANALYSES}
MICROPHONES = ("on", "muted", "none")


@dataclass
class Member:
    id: uuid.UUID
    name: str
    role: str
    consent: set[Analysis]  # the analyses they agree to now
    send: Send
    joined_at: datetime
    # Their faces over the alert window, for the lasting-negativity alert (contracts.alert).
    negativity: RecentFaces
    connected: bool = True
    left_at: datetime | None = None
    # Every change of consent, (when, analysis, given), oldest first: announced again after a
    # restart.
    consents: list[tuple[datetime, Analysis, bool]] = field(default_factory=list)
    # Their microphone as their page says: on, muted, or none at all (not the same as silent).
    microphone: str = "on"
    # Set once the member has been told they joined: before that, they get no broadcasts.
    ready: bool = False
    # A consultant other than the room's own, who came with a co-host link.
    cohost: bool = False
    score: SmoothedScore = field(default_factory=SmoothedScore)
    reading: LiveReading = field(default_factory=LiveReading)
    personal: PersonalReading = field(default_factory=PersonalReading)

    def public(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "role": self.role,
                "consent": {analysis: analysis in self.consent for analysis in ANALYSES},
                "microphone": self.microphone, "cohost": self.cohost}


@dataclass
class Room:
    name: str
    session_id: uuid.UUID
    started_at: datetime
    consultant: str | None
    # The room as set up in PostgreSQL (contracts.invitations), which ending it closes.
    room_id: uuid.UUID | None = None
    members: dict[uuid.UUID, Member] = field(default_factory=dict)
    ended_at: datetime | None = None
    end_reason: str | None = None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def present(self) -> list[Member]:
        """Members in the call who have been told so (and so may receive broadcasts)."""
        return [m for m in self.members.values() if m.connected and m.ready]

    def occupied(self) -> int:
        return sum(m.connected for m in self.members.values())

    def consultants(self) -> list[Member]:
        return [m for m in self.present() if m.role == "consultant"]

    def record(self) -> list[RoomEvent]:
        """Every room event that brings a store that lost some of them up to date."""
        events = [RoomEvent("session_started", self.session_id, self.started_at, room=self.name,
                            consultant=self.consultant, source="room")]
        for member in self.members.values():
            events.append(RoomEvent("participant_joined", self.session_id, member.joined_at,
                                    participant_id=member.id, role=member.role,
                                    display_name=member.name))
            events += [_consent_event(self, member, at, analysis, given)
                       for at, analysis, given in member.consents]
            if member.left_at is not None:
                events.append(RoomEvent("participant_left", self.session_id, member.left_at,
                                        participant_id=member.id))
        if self.ended_at is not None:
            events.append(RoomEvent("session_ended", self.session_id, self.ended_at,
                                    reason=self.end_reason))
        return events


class Rooms:
    """Every live room of this ingest process; ``publish`` queues room events for the stream,
    ``alert`` is the rule of the lasting-negativity alert its consultants are shown."""

    def __init__(self, publish: Callable[[RoomEvent], None], capacity: int,
                 alert: AlertRule) -> None:
        self._publish = publish
        self._capacity = capacity
        self._alert = alert
        self.by_name: dict[str, Room] = {}
        self._recent: dict[uuid.UUID, tuple[Room, float]] = {}
        self._ended_members: dict[uuid.UUID, float] = {}

    def by_session(self, session_id: uuid.UUID) -> Room | None:
        return next((r for r in self.by_name.values() if r.session_id == session_id), None)

    def join(self, room_name: str, name: str, role: str, consent: set[Analysis], send: Send,
             rejoin: uuid.UUID | None = None, consultant: str | None = None,
             room_id: uuid.UUID | None = None) -> tuple[Room, Member]:
        """Put someone in the room (opening its session if it has none) with the analyses they
        agree to (those their role is not offered are ignored); ``consultant`` is whose room it
        is, ``room_id`` the room as set up (both from their admission)."""
        if role not in ROLES:
            raise RoomError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name.strip() or len(name) > 100 or not name.isprintable():
            raise RoomError("give a display name of 1 to 100 characters")
        if not ROOM_NAME.fullmatch(room_name):
            raise RoomError("a room name is 1 to 100 letters, digits, '-', '_' or '.'")
        self._forget_old()
        if rejoin in self._ended_members:
            raise SessionEnded("this session has ended")
        room = self.by_name.get(room_name)
        now = datetime.now(UTC)
        if room is None:
            room = Room(room_name, uuid.uuid4(), now, consultant, room_id)
            self.by_name[room_name] = room
            self._publish(room.record()[0])
        if room.occupied() >= self._capacity:
            raise RoomError(f"room {room_name!r} is full ({self._capacity} people)")
        previous = room.members.get(rejoin) if rejoin else None
        returning = previous is not None and not previous.connected
        member_id = previous.id if returning else uuid.uuid4()
        consenting = {a for a in consent if a in OFFERED[role]}
        member = room.members[member_id] = Member(
            member_id, name.strip(), role, consenting, send, now, RecentFaces(self._alert),
            cohost=role == "consultant" and name.strip() != room.consultant)
        # The join carries the consent, so no frame or speech ever finds the one without the
        # other.
        self._publish(RoomEvent("participant_joined", room.session_id, now,
                                participant_id=member.id, role=role, display_name=member.name,
                                consent_at=now if "face" in consenting else None,
                                voice_consent_at=now if "voice" in consenting else None))
        if returning:
            member.consents = previous.consents
        member.consents += [(now, analysis, True) for analysis in sorted(consenting)]
        if returning:
            # An earlier stay's consent does not carry over: the choice made now counts.
            for analysis in sorted(previous.consent - consenting):
                self._change(room, member, analysis, False, now)
        return room, member

    def set_consent(self, room: Room, member: Member, analysis: Analysis, given: bool) -> None:
        if analysis not in OFFERED[member.role]:
            raise RoomError(f"a {member.role} is not asked about {analysis} analysis")
        if (analysis in member.consent) != given:
            self._change(room, member, analysis, given, datetime.now(UTC))

    def _change(self, room: Room, member: Member, analysis: Analysis, given: bool,
                at: datetime) -> None:
        (member.consent.add if given else member.consent.discard)(analysis)
        member.consents.append((at, analysis, given))
        self._publish(_consent_event(room, member, at, analysis, given))

    def leave(self, room: Room, member: Member) -> None:
        if not member.connected:
            return
        member.connected, member.left_at = False, datetime.now(UTC)
        self._publish(RoomEvent("participant_left", room.session_id, member.left_at,
                                participant_id=member.id))
        if not room.occupied():
            self.end(room)

    def end(self, room: Room, reason: str = "ended") -> None:
        if room.ended:
            return
        room.ended_at, room.end_reason = datetime.now(UTC), reason
        self.by_name.pop(room.name, None)
        for member in [m for m in room.members.values() if m.connected]:
            member.connected, member.left_at = False, room.ended_at
            self._publish(RoomEvent("participant_left", room.session_id, room.ended_at,
                                    participant_id=member.id))
        self._publish(RoomEvent("session_ended", room.session_id, room.ended_at, reason=reason))
        now = time.monotonic()
        for member in room.members.values():
            member.send = _nobody  # an ended room holds no connection
            self._ended_members[member.id] = now
        self._recent[room.session_id] = (room, now)

    def announce_again(self) -> None:
        """Publish the whole state of every live and recently ended room (after a restart)."""
        self._forget_old()
        for room in [*self.by_name.values(), *(r for r, _ in self._recent.values())]:
            for event in room.record():
                self._publish(event)

    async def keep_alive(self) -> None:
        """Runs for the life of the service: tell the workers every live session still runs."""
        while True:
            await asyncio.sleep(SESSION_ALIVE_S)
            now = datetime.now(UTC)
            for room in list(self.by_name.values()):
                self._publish(RoomEvent("session_alive", room.session_id, now))

    def _forget_old(self) -> None:
        now = time.monotonic()
        self._recent = {k: v for k, v in self._recent.items() if now - v[1] < RECENT_S}
        self._ended_members = {k: at for k, at in self._ended_members.items()
                               if now - at < ENDED_KEPT_S}


def _consent_event(room: Room, member: Member, at: datetime, analysis: Analysis,
                   given: bool) -> RoomEvent:
    return RoomEvent("consent_given" if given else "consent_withdrawn", room.session_id, at,
                     participant_id=member.id, analysis=analysis)
