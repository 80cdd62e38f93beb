"""``econsult room``: set up a consultation or a class and print its links; give a room new
links, withdraw its invitations, or close it (as the dashboard's Rooms page does)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from cli import CommandError
from contracts.accounts import Account
from contracts.database import engine_for
from contracts.invitations import (
    RoomInfo,
    RoomLinks,
    RoomSetupError,
    close_room,
    create_room,
    links,
    open_room,
    withdraw_invitations,
)
from contracts.schema import User
from contracts.settings import Settings


def create(settings: Settings, name: str, kind: str, consultant: str) -> int:
    engine = engine_for(settings.database_url)
    try:
        try:
            made = create_room(engine, settings, name, kind, _account(engine, consultant))
        except RoomSetupError as exc:
            raise CommandError(str(exc)) from None
        _print(made, settings)
    finally:
        engine.dispose()
    return 0


def change(settings: Settings, name: str, action: str) -> int:
    """``action``: "links" (new ones), "withdraw" (every invitation) or "close"."""
    engine = engine_for(settings.database_url)
    try:
        room = _open(engine, name)
        if action == "links":
            _print(links(engine, settings, room), settings)
        elif action == "withdraw":
            print(f"{withdraw_invitations(engine, room)} invitations to {name} withdrawn")
        else:
            close_room(engine, room.id)
            print(f"{name} is closed: its links open nothing now")
    finally:
        engine.dispose()
    return 0


def _account(engine: Engine, username: str) -> Account:
    with engine.connect() as conn:
        row = conn.execute(select(User.id, User.username, User.role)
                           .where(User.username == username)).one_or_none()
    if row is None:
        raise CommandError(f"there is no user named {username!r}; add one with "
                           f"`econsult user add {username} --role consultant`")
    return Account(*row)


def _open(engine: Engine, name: str) -> RoomInfo:
    room = open_room(engine, name)
    if room is None:
        raise CommandError(f"there is no open room named {name!r}")
    return room


def _print(made: RoomLinks, settings: Settings) -> None:
    guests = "client" if made.room.kind == "consultation" else "students"
    print(f"{made.room.kind} {made.room.name} of {made.room.consultant}; invitations last "
          f"{settings.invitation_hours:g} hours")
    print(f"  {made.room.consultant} (signed in): {made.own}")
    print(f"  {guests}: {made.guests}")
    print(f"  co-host (signed in): {made.cohost}")
