"""Consent is one rule: who is analysed, which frames may be, and the same answer in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from contracts.consent import consent_state, consent_state_sql, frame_consent

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LATER, MUCH_LATER = T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)

STATES = [
    (None, None, "declined"),
    (T0, None, "given"),
    (T0, LATER, "withdrawn"),
    (LATER, T0, "given"),  # withdrew, then gave it again
    (T0, T0, "withdrawn"),  # at the same moment, withdrawal wins
]


@pytest.mark.parametrize("given, withdrawn, state", STATES)
def test_consent_stands_once_given_until_withdrawn(given, withdrawn, state):
    assert consent_state(given, withdrawn) == state


@pytest.mark.parametrize("given, withdrawn, state", STATES)
def test_the_sql_form_gives_the_same_state(engine, given, withdrawn, state):
    with engine.connect() as conn:
        answer = conn.scalar(text(
            f"SELECT {consent_state_sql('p')} FROM (SELECT CAST(:given AS timestamptz) AS "
            "consent_at, CAST(:withdrawn AS timestamptz) AS consent_withdrawn_at) p"),
            {"given": given, "withdrawn": withdrawn})
    assert answer == state


@pytest.mark.parametrize("given, withdrawn, captured, decision", [
    (T0, None, LATER, "analyse"),
    (T0, LATER, T0 + timedelta(minutes=1), "drop"),  # captured before the withdrawal
    (MUCH_LATER, LATER, T0 + timedelta(minutes=7), "drop"),  # captured while withdrawn
    (MUCH_LATER, LATER, MUCH_LATER + timedelta(seconds=1), "analyse"),  # after re-consent
    (T0, LATER, MUCH_LATER, "wait"),  # a re-consent not recorded yet let it be captured
    (None, None, T0, "wait"),  # the consent of a join not recorded yet
])
def test_a_frame_is_analysed_only_while_consent_stood(given, withdrawn, captured, decision):
    assert frame_consent(given, withdrawn, captured) == decision
