"""Session report: everyone in the session, each as themselves (two people of one name stay two
sections), with when they gave or withdrew consent to face and to voice analysis; who spoke
when and each person's speech measures (dashboard/speech_report.py); per analysed client or
student, expressions over time, how long each led their live reading, the quality score, face
presence, facing the screen, others in view and the moments the mood turned; the figures and
the speech measures download as CSV."""

from __future__ import annotations

import contextvars
import csv
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import groupby, pairwise

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from contracts.labels import COLOURS, EMOTIONS
from dashboard import data, speech_report
from dashboard.formats import NONE, percent, whole
from dashboard.voice import consent_text as voice_consent

dash.register_page(__name__, path_template="/report/<session_id>", name="Report",
                   title="econsult · session report", order=99)
TURNS_SHOWN = 3


def bucket_seconds(duration: timedelta | None) -> int:
    """Time resolution of a report: fine for short sessions, a minute for long classes."""
    minutes = (duration or timedelta()).total_seconds() / 60
    return 10 if minutes <= 10 else 30 if minutes <= 60 else 60


END_REASONS = {"interrupted": "interrupted (the service stopped)",
               "silent": "closed after a long silence (its room stopped reporting)",
               "incomplete": "incomplete (the recording could not be read to its end)"}
CSV_FIELDS = ("participant_id", "participant", "bucket", "face_presence", "facing_screen",
              "others_in_view", "quality", *EMOTIONS)


def layout(session_id: str = "", **_: object) -> html.Div:
    length = data.session_length(session_id) if _is_uuid(session_id) else None
    if length is None:
        return html.Div([html.H2("Session report"), html.P("There is no such session.")])
    bucket = bucket_seconds(length)
    # The queries are independent: run side by side, a 2-hour class of 50 (360k faces) renders
    # in about 1.5-2 s, most of it the live reading's shares (econsult bench dashboard).
    # Each runs in a copy of this request's context, which says who is signed in.
    queries = ((data.session, session_id), (data.participants, session_id),
               (data.timeline, session_id, bucket), (data.reading_shares, session_id),
               (data.consent_changes, session_id), (data.speech, session_id),
               (data.speech_segments, session_id), (data.speech_interruptions, session_id),
               (data.session_silence, session_id))
    with ThreadPoolExecutor(len(queries)) as pool:
        futures = [pool.submit(contextvars.copy_context().run, *query) for query in queries]
        (summary, people, rows, shares, changes, voices, segments, cuts,
         silence) = (future.result() for future in futures)
    points = {pid: list(group) for pid, group in groupby(rows, key=lambda r: r["participant_id"])}
    ended = END_REASONS.get(summary["end_reason"])
    return html.Div([
        html.H2(f"{summary['room']} · {summary['started_at']:%Y-%m-%d %H:%M}"),
        html.P(f"Consultant {summary['consultant'] or NONE} · quality "
               f"{whole(summary['quality'])} / 100 · face in view "
               f"{percent(summary['face_presence'])} · facing the screen "
               f"{percent(summary['facing_screen'])} · {bucket} s per point", id="summary"),
        *([html.P(f"This session ended {ended}.", className="alert")] if ended else []),
        *([html.P(f"Its detail (every frame, reading and speech segment) is kept "
                  f"{data.settings.retention_days:g} days and has been deleted, as the "
                  "retention policy says (About the numbers): what remains is its summary.",
                  className="expired")] if summary["detail_expired"] else []),
        html.Button("Download CSV", id="csv-button"),
        html.Button("Download speech CSV", id="speech-csv-button"),
        dcc.Download(id="csv"),
        dcc.Download(id="speech-csv"),
        dcc.Store(id="session-id", data=session_id),
        speech_report.section(voices, segments, cuts, silence),
        *[_person(person, points.get(person["participant_id"], []),
                  [s for s in shares if s["participant_id"] == person["participant_id"]],
                  [c for c in changes if c["participant_id"] == person["participant_id"]])
          for person in people],
    ])


@callback(Output("csv", "data"), Input("csv-button", "n_clicks"), State("session-id", "data"),
          prevent_initial_call=True)
def download(_: int, session_id: str) -> dict:
    summary = data.session(session_id)
    if summary is None:  # gone, or not the signed-in person's to see
        raise PreventUpdate
    rows = data.timeline(session_id, bucket_seconds(data.session_length(session_id)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return dcc.send_string(out.getvalue(), f"econsult-{summary['room']}-{session_id[:8]}.csv")


@callback(Output("speech-csv", "data"), Input("speech-csv-button", "n_clicks"),
          State("session-id", "data"), prevent_initial_call=True)
def download_speech(_: int, session_id: str) -> dict:
    summary = data.session(session_id)
    if summary is None:  # gone, or not the signed-in person's to see
        raise PreventUpdate
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=speech_report.CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(speech_report.csv_rows(data.speech(session_id)))
    return dcc.send_string(out.getvalue(),
                           f"econsult-{summary['room']}-{session_id[:8]}-speech.csv")


def _shares(shares: list[dict]) -> list[html.P]:
    """How long each expression led the live reading, and the personal one."""
    titles = {"model": ("Leading expression of the live reading", "shares"),
              "personal": ("Compared with their usual expression", "personal-shares")}
    return [html.P(f"{title}: " + " · ".join(f"{s['emotion']} {s['share']:.0%}" for s in own),
                   className=name)
            for reading, (title, name) in titles.items()
            if (own := [s for s in shares if s["reading"] == reading])]


def _person(person: dict, points: list[dict], shares: list[dict], changes: list[dict]
            ) -> html.Section:
    """One participant's section: who, their consent to each analysis, and what was read of
    their face."""
    heading = html.H3(f"{person['label']} ({person['role']})")
    consent = html.Div([
        html.P(_consent(person, [c for c in changes if c["analysis"] == "face"]),
               className="consent face"),
        html.P(voice_consent(person, [c for c in changes if c["analysis"] == "voice"]),
               className="consent voice")])
    if person["role"] == "consultant" or not points:
        return html.Section([heading, consent], className="participant")
    others, missing = person["others_in_view"] or 0, person["frames_missing"]
    return html.Section([
        heading, consent,
        *([html.P(f"Someone else was in view in {others:.0%} of their frames: counted, never "
                  "analysed.", className="others")] if others else []),
        *([html.P(f"{missing} of their sampled frames were never stored (lost while Redis "
                  "restarted, or refused as damaged).", className="missing")] if missing else []),
        *_shares(shares),
        *_charts(points),
        html.H4("Where the mood turned"),
        html.Ul([html.Li(turn) for turn in _turns(points)] or [html.Li("no clear turn")],
                className="turns"),
    ], className="participant")


def _consent(person: dict, changes: list[dict]) -> str:
    """Whether and when the person agreed to face analysis (contracts.consent's states)."""
    if person["role"] == "consultant":
        return "Face analysis: consultants' faces are not analysed."
    if person["consent"] == "declined":
        return "Face analysis: declined, not analysed."
    history = " · ".join(f"{'given' if c['given'] else 'withdrawn'} {c['at']:%H:%M:%S}"
                         for c in changes)
    now = ("analysed while it stood" if person["consent"] == "given"
           else "not analysed since the withdrawal")
    return f"Face analysis: consent {history}: {now}."


def _charts(points: list[dict]) -> list[dcc.Graph]:
    times = [p["bucket"] for p in points]
    # Plain dicts, not go.Figure: validating 100 figures for a class took over a second.
    expressions = {
        "data": [{"type": "scatter", "x": times, "y": [p[e] for p in points], "name": e,
                  "stackgroup": "one", "line": {"color": COLOURS[e], "width": 0.5}}
                 for e in EMOTIONS],
        "layout": {"title": {"text": "Expressions (mean probability)"}, "height": 300,
                   "yaxis": {"range": [0, 1], "tickformat": ".0%"},
                   "margin": {"t": 40, "b": 30}},
    }
    quality = {
        "data": [
            {"type": "scatter", "x": times, "y": [p["quality"] for p in points],
             "name": "quality (0-100)", "line": {"color": "#1f5f99", "width": 3}},
            {"type": "bar", "x": times, "y": [100 * p["face_presence"] for p in points],
             "name": "face in view (%)", "marker": {"color": "#c9d1dc"}},
            {"type": "scatter", "x": times, "y": [100 * p["facing_screen"] for p in points],
             "name": "facing the screen (%)", "line": {"color": "#6b7a8f", "dash": "dot"}},
        ],
        "layout": {"title": {"text": "Quality, face in view, facing the screen"}, "height": 260,
                   "yaxis": {"range": [0, 100]}, "margin": {"t": 40, "b": 30}},
    }
    return [dcc.Graph(figure=figure, config={"displayModeBar": False})
            for figure in (expressions, quality)]


def _turns(points: list[dict]) -> list[str]:
    """The largest drops in quality from one point to the next, largest first."""
    scored = [p for p in points if p["quality"] is not None]
    drops = sorted(((after["quality"] - before["quality"], after["bucket"])
                    for before, after in pairwise(scored)))
    return [f"{moment:%H:%M:%S}: quality fell by {-change:.0f}"
            for change, moment in drops[:TURNS_SHOWN] if change <= -10]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
