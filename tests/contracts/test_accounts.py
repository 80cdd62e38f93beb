"""Failed sign-ins: a run of failures quiet for a day is forgotten, and its record removed, so
the count starts again and the records stay few however many usernames are tried."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from contracts.accounts import FORGET_AFTER, FREE_FAILURES, authenticate
from contracts.schema import FailedSignIns
from tests.support.accounts import PASSWORD, account


def _failures(engine, username: str) -> int | None:
    with engine.connect() as conn:
        return conn.scalar(select(FailedSignIns.failures)
                           .where(FailedSignIns.username == username))


def test_failures_quiet_for_a_day_are_forgotten(engine):
    target, stranger = account(engine), f"nobody-{uuid.uuid4().hex[:6]}"
    long_ago = datetime.now(UTC) - FORGET_AFTER - timedelta(minutes=1)
    with engine.begin() as conn:
        for username in (target.username, stranger):
            conn.execute(insert(FailedSignIns).values(
                username=username, failures=FREE_FAILURES + 3, last_failed_at=long_ago))
    assert authenticate(engine, target.username, "wrong password") is None
    assert _failures(engine, target.username) == 1  # counted anew
    assert _failures(engine, stranger) is None  # removed by anyone's failure
    assert authenticate(engine, target.username, PASSWORD) == target
