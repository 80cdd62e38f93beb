"""Failed sign-ins: slowed for one username and from one address (an IPv6 client's /64),
whatever the usernames tried; a correct sign-in from an address clears its count; a run of
failures quiet for a day is forgotten, and its record removed, so the count starts again and
the records stay few however many usernames or addresses are tried; the wait is said in words."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from contracts.accounts import (
    ADDRESS_FREE_FAILURES,
    FORGET_AFTER,
    FREE_FAILURES,
    TooManyFailures,
    authenticate,
)
from contracts.schema import FailedSignIns, FailedSignInsByAddress
from tests.support.accounts import PASSWORD, account, own_address

TRIES = 10  # more than ADDRESS_FREE_FAILURES: the later ones are slowed


def _failures(engine, username: str) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(select(FailedSignIns.failures)
                           .where(FailedSignIns.username == username))


def _address_failures(engine, address: str) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(select(FailedSignInsByAddress.failures)
                           .where(FailedSignInsByAddress.address == address))


def _unknown() -> str:
    return f"nobody-{uuid.uuid4().hex[:6]}"


def _tries(engine, addresses: Iterable[str]) -> list[str]:
    """A wrong password for a new unknown username from each address in turn: what each got."""
    outcomes = []
    for address in addresses:
        try:
            outcomes.append("refused" if authenticate(engine, _unknown(), "a guess", address)
                            is None else "signed in")
        except TooManyFailures as paused:
            assert "from this address" in str(paused)
            outcomes.append("paused")
    return outcomes


def test_failures_quiet_for_a_day_are_forgotten(engine):
    target, stranger = account(engine), _unknown()
    address, other_address = own_address(), own_address()
    long_ago = datetime.now(UTC) - FORGET_AFTER - timedelta(minutes=1)
    with engine.begin() as conn:
        for username in (target.username, stranger):
            conn.execute(insert(FailedSignIns).values(
                username=username, failures=FREE_FAILURES + 3, last_failed_at=long_ago))
        for quiet in (address, other_address):
            conn.execute(insert(FailedSignInsByAddress).values(
                address=quiet, failures=ADDRESS_FREE_FAILURES + 3, last_failed_at=long_ago))
    assert authenticate(engine, target.username, "wrong password", address) is None
    assert _failures(engine, target.username) == 1  # counted anew
    assert _address_failures(engine, address) == 1
    assert _failures(engine, stranger) is None  # removed by anyone's failure
    assert _address_failures(engine, other_address) is None
    assert authenticate(engine, target.username, PASSWORD, address) == target


def test_many_usernames_tried_from_one_address_are_slowed(engine):
    address = own_address()
    outcomes = _tries(engine, [address] * TRIES)
    assert outcomes[:ADDRESS_FREE_FAILURES] == ["refused"] * ADDRESS_FREE_FAILURES
    assert outcomes[-1] == "paused"
    assert _tries(engine, [own_address()]) == ["refused"]  # another address is not slowed


def test_a_correct_sign_in_from_an_address_clears_its_failures(engine):
    address, target = own_address(), account(engine)
    assert _tries(engine, [address] * (ADDRESS_FREE_FAILURES - 1)) == \
        ["refused"] * (ADDRESS_FREE_FAILURES - 1)
    assert authenticate(engine, target.username, PASSWORD, address) == target
    assert _address_failures(engine, address) is None
    assert _tries(engine, [address] * (ADDRESS_FREE_FAILURES - 1)) == \
        ["refused"] * (ADDRESS_FREE_FAILURES - 1)


def test_an_ipv6_client_is_counted_by_its_64(engine):
    network = f"2001:db8:{secrets.randbits(16):x}:{secrets.randbits(16):x}"
    outcomes = _tries(engine, [f"{network}::{host + 1:x}" for host in range(TRIES)])
    assert outcomes[:ADDRESS_FREE_FAILURES] == ["refused"] * ADDRESS_FREE_FAILURES
    assert outcomes[-1] == "paused"


@pytest.mark.parametrize("wait_s, said", [
    (1, "1 second"), (2, "2 seconds"), (59, "59 seconds"),
    (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes"),  # minutes rounded up
])
def test_the_wait_is_said_in_words(wait_s, said):
    assert str(TooManyFailures(wait_s, "for this username")) == \
        f"Too many failed sign-ins for this username: try again in {said}."
