"""Rooms set up as a consultant would, for tests and the benchmark: a consultant account, a room
and its links pointing at the ingest under test, and the token inside a link. Entering a room
in a browser is rooms.py's: this module needs no Playwright, which the benchmark may lack."""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets
import uuid

from sqlalchemy import Engine, select

from contracts.accounts import Account, add_user
from contracts.invitations import RoomLinks, create_room
from contracts.schema import User
from contracts.settings import Settings

PASSWORD = "a long enough password"


def account(engine: Engine, role: str = "consultant", username: str | None = None) -> Account:
    """A new account (named ``username``, or uniquely) whose password is ``PASSWORD``."""
    username = username or f"{role}-{secrets.token_hex(3)}"
    add_user(engine, username, PASSWORD, role)
    return account_named(engine, username)


def account_named(engine: Engine, username: str) -> Account:
    with engine.connect() as conn:
        return Account(*conn.execute(select(User.id, User.username, User.role)
                                     .where(User.username == username)).one())


def own_address() -> str:
    """A client address of a test's own: failed sign-ins are counted by address too."""
    return str(ipaddress.IPv4Address((10 << 24) | secrets.randbits(24)))


def set_up(engine: Engine, settings: Settings, ingest_url: str, kind: str = "consultation",
           consultant: Account | None = None, name: str | None = None) -> RoomLinks:
    """A room of ``consultant`` (a new one if not given), with links into ``ingest_url``."""
    return create_room(engine, dataclasses.replace(settings, room_url=ingest_url),
                       name or f"{kind}-{uuid.uuid4().hex[:6]}", kind,
                       consultant or account(engine))


def token(link: str) -> str:
    """The invitation inside a link (its fragment, ``#invitation=…``)."""
    return link.split("#invitation=", 1)[1]
