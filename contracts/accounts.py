"""Accounts and sign-ins, shared by the dashboard (which signs people in) and ingest (which
lets a signed-in consultant into their own room).

Passwords are kept as scrypt hashes and checked in constant time. A sign-in is a random token
in an ``HttpOnly`` cookie, kept on the server only as its SHA-256 hash: signing out ends it
there, so a copy of the cookie taken earlier opens nothing. After ``FREE_FAILURES`` failed
sign-ins in a row for one username, each next try must wait twice as long as the one before
(up to ``LONGEST_WAIT_S``), which makes guessing a password by trying slow; the same holds from
one client address after ``ADDRESS_FREE_FAILURES``, whatever the usernames, which makes trying
one password on many usernames (password spraying) slow too. A run of failures quiet for
``FORGET_AFTER`` is forgotten, so their records stay few however many usernames or addresses
are tried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import IntegrityError

from contracts.schema import ACCOUNT_ROLES, FailedSignIns, FailedSignInsByAddress, SignIn, User

COOKIE = "econsult_session"
# scrypt cost: about 50 ms and 16 MiB per check here, slow enough to make guessing expensive.
N, R, P = 2**14, 8, 1
MIN_PASSWORD = 10
FREE_FAILURES = 5
# An address is often shared (a clinic behind one NAT), so it gets a few more free failures than
# a username, and any correct sign-in from it clears them (someone with an account could clear
# them so; a sprayer from outside has none): 8 in a row with none is someone trying usernames,
# whom the doubling then holds to about a hundred tries a day.
ADDRESS_FREE_FAILURES = 8
LONGEST_WAIT_S = 15 * 60
FORGET_AFTER = timedelta(days=1)


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


class TooManyFailures(PermissionError):
    """Sign-ins are paused ``whose``: "for this username" or "from this address"; ``wait_s``
    says for how long."""

    def __init__(self, wait_s: int, whose: str) -> None:
        super().__init__(f"Too many failed sign-ins {whose}: try again in {_in_words(wait_s)}.")
        self.wait_s = wait_s


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str

    @property
    def manager(self) -> bool:
        return self.role == "manager"


def add_user(engine: Engine, username: str, password: str, role: str) -> None:
    if not username.strip() or len(username) > 100 or not username.isprintable():
        raise AccountError("give a username of 1 to 100 characters")
    if role not in ACCOUNT_ROLES:
        raise AccountError(f"the role is one of {', '.join(ACCOUNT_ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"use a password of at least {MIN_PASSWORD} characters")
    try:
        with engine.begin() as conn:
            conn.execute(insert(User).values(username=username.strip(), role=role,
                                             password_hash=hash_password(password)))
    except IntegrityError:
        raise AccountError(f"a user named {username!r} exists already") from None


def authenticate(engine: Engine, username: str, password: str, address: str
                 ) -> Account | None:
    """The account when the password is right; raises TooManyFailures while sign-ins for
    ``username``, or from ``address`` (contracts.proxy.client_address), are paused."""
    now = datetime.now(UTC)
    # Each count: the column its failures are kept under (in its own table), the value there,
    # the failures it allows before pausing, and whose they are.
    counts = ((FailedSignIns.username, username[:100], FREE_FAILURES, "for this username"),
              (FailedSignInsByAddress.address, _counted_address(address), ADDRESS_FREE_FAILURES,
               "from this address"))
    with engine.begin() as conn:
        for key, value, free, whose in counts:
            table = key.class_
            failed = conn.execute(select(table.failures, table.last_failed_at)
                                  .where(key == value)).one_or_none()
            if failed is not None and (wait := _wait_s(*failed, now, free)) > 0:
                raise TooManyFailures(wait, whose)
        row = conn.execute(select(User.id, User.username, User.role, User.password_hash)
                           .where(User.username == username)).one_or_none()
        if row is not None and _password_matches(password, row.password_hash):
            for key, value, *_ in counts:
                conn.execute(delete(key.class_).where(key == value))
            return Account(row.id, row.username, row.role)
        if row is None:
            hash_password(password)  # the same work as for a real user: no timing tell
        # A pause counts from the failure's answer, not from the slow hashing before it.
        failed_at = datetime.now(UTC)
        for key, value, *_ in counts:
            table = key.class_
            conn.execute(delete(table).where(table.last_failed_at < failed_at - FORGET_AFTER))
            conn.execute(upsert(table).values({key.key: value, "failures": 1,
                                               "last_failed_at": failed_at})
                         .on_conflict_do_update(index_elements=[key.key], set_={
                             "failures": table.failures + 1, "last_failed_at": failed_at}))
        return None


def sign_in(engine: Engine, account: Account, hours: float) -> str:
    """Start a sign-in; the token goes in the cookie and nowhere else."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(insert(SignIn).values(
            token_hash=token_hash(token), user_id=account.id,
            expires_at=datetime.now(UTC) + timedelta(hours=hours)))
    return token


def signed_in(engine: Engine, token: str | None) -> Account | None:
    """Whose sign-in ``token`` is, while it has neither expired nor been ended."""
    if not token:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(User.id, User.username, User.role).join(SignIn, SignIn.user_id == User.id)
            .where(SignIn.token_hash == token_hash(token), SignIn.ended_at.is_(None),
                   SignIn.expires_at > datetime.now(UTC))).one_or_none()
    return Account(*row) if row else None


def sign_out(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(update(SignIn).where(SignIn.token_hash == token_hash(token))
                         .values(ended_at=datetime.now(UTC)))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P)
    return "$".join(["scrypt", str(N), str(R), str(P), _b64(salt), _b64(digest)])


def _password_matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                               r=int(r), p=int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def _wait_s(failures: int, last_failed_at: datetime, now: datetime, free: int) -> int:
    if failures < free:
        return 0
    pause = min(2 ** (failures - free), LONGEST_WAIT_S)
    return max(0, math.ceil(pause - (now - last_failed_at).total_seconds()))


def _counted_address(address: str) -> str:
    """An IPv6 client by its /64: one host usually holds a whole /64, and could try from a new
    address of it every time."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:  # an IPv4 client of a server listening on IPv6 too
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _in_words(seconds: int) -> str:
    """The wait as people say it: 1 second, 40 seconds; from a minute on, whole minutes rounded
    up (15 minutes)."""
    amount, unit = (seconds, "second") if seconds < 60 else (math.ceil(seconds / 60), "minute")
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
