"""Dashboard accounts: passwords are stored as scrypt hashes and checked in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from contracts.schema import User

# scrypt cost: about 50 ms and 16 MiB per check here, slow enough to make guessing expensive.
N, R, P = 2**14, 8, 1
MIN_PASSWORD = 10


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P)
    return "$".join(["scrypt", str(N), str(R), str(P), _b64(salt), _b64(digest)])


def password_matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                               r=int(r), p=int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def add_user(engine: Engine, username: str, password: str) -> None:
    if not username.strip():
        raise UserError("give a username")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"use a password of at least {MIN_PASSWORD} characters")
    try:
        with engine.begin() as conn:
            conn.execute(insert(User).values(username=username.strip(),
                                             password_hash=hash_password(password)))
    except IntegrityError:
        raise UserError(f"a user named {username!r} exists already") from None


def authenticate(engine: Engine, username: str, password: str) -> bool:
    with engine.connect() as conn:
        stored = conn.scalar(select(User.password_hash).where(User.username == username))
    if stored is None:
        hash_password(password)  # the same work as for a real user: no timing tell
        return False
    return password_matches(password, stored)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
