"""How the pages speak of voice analysis: what it never records, who is not analysed, and
when each person's voice was (contracts.consent, applied to voice)."""

from __future__ import annotations

from datetime import datetime

LIMITS = ("Voice analysis records when each person who agreed to it spoke, never what they "
          "said; no sound is kept. People without voice consent are not analysed: they are not "
          "silent, their speech is not recorded and it counts in nobody's share. Shares are of "
          "the analysed people's talk.")
NOT_ANALYSED = {"declined": "not analysed (no voice consent)",
                "withdrawn": "not analysed (voice consent withdrawn)"}


def consent_text(person: dict, changes: list[dict]) -> str:
    """When the person's voice was analysed, from their voice consent changes in order."""
    if person["voice_consent_at"] is None:
        return "Voice analysis: no consent, not analysed (not silent: not recorded)."
    spans = ", ".join(f"{start:%H:%M:%S}–{end:%H:%M:%S}" if end else f"from {start:%H:%M:%S}"
                      for start, end in stood(changes or _latest(person)))
    return f"Voice analysis: analysed {spans or 'never (consent withdrawn at once)'}."


def stood(changes: list[dict]) -> list[tuple[datetime, datetime | None]]:
    """The spans in which consent stood (the last one open while it still stands); a
    withdrawal at the very moment of consent leaves no span, as contracts.consent rules."""
    spans: list[tuple[datetime, datetime | None]] = []
    since: datetime | None = None
    for change in changes:
        if change["given"] and since is None:
            since = change["at"]
        elif not change["given"] and since is not None:
            if change["at"] > since:
                spans.append((since, change["at"]))
            since = None
    return spans + ([(since, None)] if since is not None else [])


def _latest(person: dict) -> list[dict]:
    # Without recorded changes, the participant's row still holds the latest of each.
    given, withdrawn = person["voice_consent_at"], person["voice_consent_withdrawn_at"]
    return [{"at": given, "given": True},
            *([{"at": withdrawn, "given": False}] if withdrawn and withdrawn >= given else [])]
