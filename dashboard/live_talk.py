"""The live view's talk, per running session: who is speaking now, each analysed person's share
of the talk over the last :data:`contracts.speech.RECENT_S`, and the hints the consultant sees
in the room. Every measure is contracts.speech's, over the segments stored in PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from dash import html

from contracts.speech import RECENT_S, Segment, hints, talk_share
from dashboard import data
from dashboard.voice import NOT_ANALYSED

# Someone is speaking while their segment grows: ingest stores a growing one every second.
SPEAKING_S = 2.0


def by_session(now: float) -> dict[UUID, html.Div]:
    """Each running session's talk, as of ``now`` (seconds since the epoch)."""
    people: dict[UUID, list[dict]] = defaultdict(list)
    for person in data.live_voices():
        people[person["session_id"]].append(person)
    segments: dict[UUID, list[Segment]] = defaultdict(list)
    for row in data.live_segments(RECENT_S):
        segments[row["session_id"]].append(
            Segment(row["start_s"], row["end_s"], row["participant_id"]))
    return {sid: _talk(own, segments[sid], now) for sid, own in people.items()}


def _talk(people: list[dict], segments: list[Segment], now: float) -> html.Div:
    analysed = [p for p in people if p["analysed"]]
    if not analysed:
        return html.Div(html.P("Nobody here agreed to voice analysis.", className="muted"),
                        className="talk")
    said = hints(segments, {p["participant_id"]: p["role"] for p in analysed},
                 {p["participant_id"]: p["label"] for p in analysed}, now)
    shares = talk_share(segments, since=now - RECENT_S, until=now)
    speaking = {s.participant for s in segments if now - s.end <= SPEAKING_S}
    return html.Div([
        html.H4(f"Talk, last {RECENT_S / 60:.0f} minutes"),
        *([html.Ul([html.Li(hint) for hint in said], className="hints")] if said else []),
        html.Ul([_voice(p, shares, speaking) for p in people], className="voices"),
    ], className="talk")


def _voice(person: dict, shares: dict, speaking: set) -> html.Li:
    who = person["participant_id"]
    label = html.Span(person["label"], className="who")
    if not person["analysed"]:
        return html.Li([label, html.Span(NOT_ANALYSED[person["voice_consent"]],
                                         className="muted")], className="voice not-analysed")
    return html.Li([
        label,
        html.Span(f"{shares.get(who, 0.0):.0f}%" if shares else "no talk", className="share"),
        *([html.Span("speaking", className="speaking")] if who in speaking else []),
    ], className="voice")
