"""``econsult room``: set up a consultation or a class and print its links; give a room new
links, withdraw its invitations, or close it (as the dashboard's Rooms page does)."""

from __future__ import annotations

import argparse

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
from contracts.schema import ROOM_KINDS, User
from contracts.settings import Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("room", help="set up a room and its invitation links")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    creating = actions.add_parser("create", help="set up a room and print its links")
    creating.add_argument("name")
    creating.add_argument("--consultant", required=True, help="username of the consultant")
    creating.add_argument("--kind", choices=ROOM_KINDS, default="consultation")
    creating.set_defaults(run=create)
    for action, text in (("links", "print new links for an open room"),
                         ("withdraw", "withdraw every invitation to an open room"),
                         ("close", "close a room: its links open nothing from now on")):
        changing = actions.add_parser(action, help=text)
        changing.add_argument("name")
        changing.set_defaults(run=change)


def create(args: argparse.Namespace, settings: Settings) -> int:
    engine = engine_for(settings.database_url)
    try:
        try:
            made = create_room(engine, settings, args.name, args.kind,
                               _account(engine, args.consultant))
        except RoomSetupError as exc:
            raise CommandError(str(exc)) from None
        _print(made, settings)
    finally:
        engine.dispose()
    return 0


def change(args: argparse.Namespace, settings: Settings) -> int:
    """``args.action``: "links" (new ones), "withdraw" (every invitation) or "close"."""
    name = args.name
    engine = engine_for(settings.database_url)
    try:
        room = _open(engine, name)
        if args.action == "links":
            _print(links(engine, settings, room), settings)
        elif args.action == "withdraw":
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
