"""Rooms and who may enter them, shared by the dashboard and the CLI (which set rooms up) and
ingest (which admits people).

A consultant sets up a room (a consultation or a class) and gets links: their own, which opens
only for them signed in, an invitation for the client or the students, and a co-host link for
a second consultant (who must be signed in too, so that the room knows them by their account).
An invitation is a random token bound to one room and one role, kept here only as its SHA-256
hash, that lasts ``invitation_hours`` unless withdrawn. It travels in the link's fragment
(``#invitation=…``), which browsers never send to a server, so it is in no access log.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import Engine, Select, insert, select, update
from sqlalchemy.exc import IntegrityError

from contracts.accounts import Account, token_hash
from contracts.schema import ROOM_KINDS, Invitation, Room, User
from contracts.settings import Settings

ROOM_NAME = re.compile(r"[\w.-]{1,100}")
# Who each kind of room invites, besides co-hosts.
GUESTS = {"consultation": "client", "class": "student"}


class RoomSetupError(ValueError):
    """A room cannot be set up as asked; the message says why."""


class NotAdmitted(PermissionError):
    """Someone may not enter the room; the message tells them why and what to do."""

    def __init__(self, message: str, sign_in: bool = False) -> None:
        super().__init__(message)
        self.sign_in = sign_in  # signing in would help: the page offers it


@dataclass(frozen=True)
class RoomInfo:
    id: uuid.UUID
    name: str
    kind: str
    consultant: str


@dataclass(frozen=True)
class Admission:
    room: RoomInfo
    role: str
    # The name the room shows: the account's for consultants; None lets guests give theirs.
    name: str | None


@dataclass(frozen=True)
class RoomLinks:
    room: RoomInfo
    own: str
    guests: str
    cohost: str


def room_url(settings: Settings, name: str) -> str:
    return f"{settings.public_room_url}/room/{quote(name)}"


def create_room(engine: Engine, settings: Settings, name: str, kind: str,
                consultant: Account) -> RoomLinks:
    if not ROOM_NAME.fullmatch(name):
        raise RoomSetupError("a room name is 1 to 100 letters, digits, '-', '_' or '.'")
    if kind not in ROOM_KINDS:
        raise RoomSetupError(f"a room is one of {', '.join(ROOM_KINDS)}, not {kind!r}")
    if consultant.role != "consultant":
        raise RoomSetupError(f"{consultant.username} is a {consultant.role}; only consultants "
                             "hold rooms")
    room = RoomInfo(uuid.uuid4(), name, kind, consultant.username)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Room).values(id=room.id, name=name, kind=kind,
                                             consultant_id=consultant.id))
    except IntegrityError:
        raise RoomSetupError(f"a room named {name!r} is open already: pick another name") from None
    return links(engine, settings, room)


def links(engine: Engine, settings: Settings, room: RoomInfo) -> RoomLinks:
    """New invitations for the room's guests and a co-host, and the consultant's own link."""
    return RoomLinks(room, room_url(settings, room.name),
                     invite(engine, settings, room, GUESTS[room.kind]),
                     invite(engine, settings, room, "consultant"))


def invite(engine: Engine, settings: Settings, room: RoomInfo, role: str) -> str:
    token = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(insert(Invitation).values(
            id=uuid.uuid4(), room_id=room.id, role=role, token_hash=token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(hours=settings.invitation_hours)))
    return f"{room_url(settings, room.name)}#invitation={token}"


def withdraw_invitations(engine: Engine, room: RoomInfo) -> int:
    """Withdraw every invitation to the room still valid; how many there were."""
    with engine.begin() as conn:
        return conn.execute(update(Invitation).where(
            Invitation.room_id == room.id, Invitation.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))).rowcount


def close_room(engine: Engine, room_id: uuid.UUID) -> None:
    with engine.begin() as conn:
        conn.execute(update(Room).where(Room.id == room_id, Room.closed_at.is_(None))
                     .values(closed_at=datetime.now(UTC)))


def open_rooms(engine: Engine, account: Account) -> list[RoomInfo]:
    """The rooms not yet closed that ``account`` holds (a manager: everyone's)."""
    query = _rooms().where(Room.closed_at.is_(None)).order_by(Room.created_at.desc())
    if not account.manager:
        query = query.where(Room.consultant_id == account.id)
    with engine.connect() as conn:
        return [RoomInfo(*row) for row in conn.execute(query)]


def open_room(engine: Engine, name: str) -> RoomInfo | None:
    with engine.connect() as conn:
        row = conn.execute(_rooms().where(Room.name == name, Room.closed_at.is_(None))
                           ).one_or_none()
    return RoomInfo(*row) if row else None


def admit(engine: Engine, room_name: str, invitation: str | None,
          account: Account | None) -> Admission:
    """Who enters ``room_name`` and as what, from their invitation and their sign-in."""
    if invitation:
        return _by_invitation(engine, room_name, invitation, account)
    room = open_room(engine, room_name)
    if room is None:
        raise NotAdmitted(f"There is no open room named {room_name!r}: it may have ended. Ask "
                          "the person who invited you for a new link.")
    if account is None:
        raise NotAdmitted("This room is only for invited people: open the link from your "
                          "invitation. If this is your room, sign in first.", sign_in=True)
    if account.username != room.consultant:
        raise NotAdmitted(f"This room is {room.consultant}'s. To join as a co-host, open a "
                          "co-host link from them.")
    return Admission(room, "consultant", account.username)


def _by_invitation(engine: Engine, room_name: str, token: str,
                   account: Account | None) -> Admission:
    with engine.connect() as conn:
        row = conn.execute(
            select(Invitation.role, Invitation.expires_at, Invitation.revoked_at,
                   Room.closed_at, *_rooms().selected_columns)
            .join(Room, Room.id == Invitation.room_id).join(User, User.id == Room.consultant_id)
            .where(Invitation.token_hash == token_hash(token))).one_or_none()
    if row is None:
        raise NotAdmitted("This invitation link is not valid. Check that you opened the whole "
                          "link, or ask the person who invited you for a new one.")
    role, expires_at, revoked_at, closed_at, *fields = row
    room = RoomInfo(*fields)
    if room.name != room_name:
        raise NotAdmitted("This invitation is for another room: open the link exactly as you "
                          "received it.")
    if closed_at is not None:
        raise NotAdmitted(f"This {room.kind} has ended. Thank you.")
    if revoked_at is not None:
        raise NotAdmitted(f"This invitation was withdrawn. Ask {room.consultant} for a new one.")
    if expires_at <= datetime.now(UTC):
        raise NotAdmitted(f"This invitation expired on {expires_at:%d %B %Y at %H:%M} UTC. Ask "
                          f"{room.consultant} for a new one.")
    if role != "consultant":
        return Admission(room, role, None)
    if account is None:
        raise NotAdmitted("This is a co-host link: sign in with your own account first.",
                          sign_in=True)
    return Admission(room, role, account.username)


def _rooms() -> Select:
    return select(Room.id, Room.name, Room.kind, User.username).join(
        User, User.id == Room.consultant_id)
