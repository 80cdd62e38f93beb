"""Consent: the one rule for whether a participant is analysed, in Python and in SQL.

Each kind of analysis has its own consent (:data:`ANALYSES`): *face* (expressions, face in view)
and *voice* (when they speak, never what they say). People give or withdraw each apart, and the
rule below applies to each on its own columns (:data:`COLUMNS`). For each kind, a participant's
row keeps the latest time they gave consent (``consent_at``) and the latest time
they withdrew it (``consent_withdrawn_at``); ``consent_changes`` keeps every change. Their
consent *stands* when they gave it and have not withdrawn it since. A participant who never gave
it *declined*; one who withdrew it and has not given it again *withdrew*. A frame is analysed
only while consent stands, and never one captured while it was withdrawn. The worker, the
dashboard and the analysts' views all use this module, so they always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

ConsentState = Literal["given", "withdrawn", "declined"]
Analysis = Literal["face", "voice"]
ANALYSES: tuple[Analysis, ...] = ("face", "voice")
# The participants' columns of each kind's latest consent and latest withdrawal.
COLUMNS: dict[Analysis, tuple[str, str]] = {
    "face": ("consent_at", "consent_withdrawn_at"),
    "voice": ("voice_consent_at", "voice_consent_withdrawn_at"),
}
FrameConsent = Literal["analyse", "drop", "wait"]
STATES: tuple[ConsentState, ...] = ("given", "withdrawn", "declined")


def consent_state(consent_at: datetime | None, withdrawn_at: datetime | None) -> ConsentState:
    if consent_at is None:
        return "declined"
    # A withdrawal at the very moment of consent wins: when in doubt, do not analyse.
    if withdrawn_at is not None and withdrawn_at >= consent_at:
        return "withdrawn"
    return "given"


def frame_consent(consent_at: datetime | None, withdrawn_at: datetime | None,
                  captured_at: datetime) -> FrameConsent:
    """What to do with a frame, given its participant's consent as recorded so far.

    ``analyse``: consent stands, and stood when the frame was captured. ``drop``: the frame was
    captured before consent was withdrawn, or while it was. ``wait``: it was captured after
    the last recorded change, yet consent does not stand; producers capture only with consent,
    so the change that allowed it is still on its way (room events and frames travel apart).
    """
    state = consent_state(consent_at, withdrawn_at)
    if state == "given":
        captured_while_withdrawn = (withdrawn_at is not None
                                    and withdrawn_at <= captured_at < consent_at)
        return "drop" if captured_while_withdrawn else "analyse"
    if state == "withdrawn" and captured_at <= withdrawn_at:
        return "drop"
    return "wait"


def consent_state_sql(participant: str = "participants", analysis: Analysis = "face") -> str:
    """:func:`consent_state` of one kind of analysis over the columns of ``participant`` (a
    table name or alias)."""
    given, withdrawn = (f"{participant}.{column}" for column in COLUMNS[analysis])
    return (f"CASE WHEN {given} IS NULL THEN 'declined' "
            f"WHEN {withdrawn} >= {given} THEN 'withdrawn' ELSE 'given' END")


def ever_given_sql(participant: str = "participants", analysis: Analysis = "face") -> str:
    """Whether ``participant`` agreed to that analysis at some time (and so was analysed while
    it stood), over its columns."""
    return f"{participant}.{COLUMNS[analysis][0]} IS NOT NULL"
