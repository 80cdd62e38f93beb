"""Live: the sessions running now, refreshed every second: each one's quality over the last two
minutes and, per client or student, the current expression, face presence and quality, with an
alert when negative expressions persist; who is speaking, everyone's share of the last five
minutes' talk and the hints the consultant sees in the room (dashboard/live_talk.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import groupby

import dash
from dash import Input, Output, callback, dcc, html

from contracts.alert import AlertRule
from contracts.labels import COLOURS, EMOTIONS
from contracts.quality import positivity
from dashboard import data, live_talk
from dashboard.formats import chart_text, percent

dash.register_page(__name__, path="/live", name="Live", title="econsult · live", order=1)
# A face older than this is not "now": the participant shows as not in view.
CURRENT_S = 10
TIMELINE_S, TIMELINE_BUCKET_S = 120, 5
# The cards are of faces: voice analysis is consented to, and shown, apart (live_talk).
NOT_ANALYSED = {"declined": "face not analysed (declined)",
                "withdrawn": "face not analysed (consent withdrawn)"}


def layout(**_: object) -> html.Div:
    return html.Div([
        html.H2("Live"),
        html.P(f"Refreshed every second. An alert shows when a client's faces read negative "
               f"(angry, disgust, fear, sad) at {data.settings.alert_negative:.0%} or more for "
               f"{data.settings.alert_seconds:.0f} s; their consultant sees it in the room too.",
               className="hint"),
        dcc.Interval(id="tick", interval=1000),
        html.Div(id="live-sessions"),
    ])


@callback(Output("live-sessions", "children"), Input("tick", "n_intervals"))
def refresh(_: int | None) -> list[html.Section] | html.P:
    rows = data.live(CURRENT_S, AlertRule.of(data.settings))
    if not rows:
        return html.P("No session is running now.")
    now = datetime.now(UTC)
    timelines = {sid: list(points) for sid, points in groupby(
        data.live_timeline(TIMELINE_S, TIMELINE_BUCKET_S), key=lambda r: r["session_id"])}
    talk = live_talk.by_session(now.timestamp())
    return [html.Section([
        html.H3(people[0]["room"]),
        talk.get(sid),  # read a moment after the rows: a session may have ended since
        dcc.Graph(figure=_timeline(timelines.get(sid, []), now),
                  config={"displayModeBar": False}, className="timeline"),
        html.Div([_card(r) for r in people], className="cards"),
    ], className="live-session")
        for sid, people in ((sid, list(group)) for sid, group in
                            groupby(rows, key=lambda r: r["session_id"]))]


def _timeline(points: list[dict], now: datetime) -> dict:
    """Each client's or student's quality over the last two minutes, one line each."""
    lines = [{"type": "scatter", "mode": "lines+markers", "name": chart_text(own[0]["label"]),
              "x": [p["bucket"] for p in own], "y": [p["quality"] for p in own]}
             for own in (list(g) for _, g in
                         groupby(points, key=lambda p: p["participant_id"]))]
    return {"data": lines, "layout": {
        "title": {"text": "Quality, last two minutes"}, "height": 220,
        "yaxis": {"range": [0, 100]}, "margin": {"t": 40, "b": 30, "l": 40},
        "xaxis": {"range": [now - timedelta(seconds=TIMELINE_S), now],
                  "tickformat": "%H:%M:%S"},
        "showlegend": len(lines) <= 10, "hoverlabel": {"namelength": -1}, "uirevision": "keep"}}


def _card(row: dict) -> html.Div:
    alert = _alert(row)
    children = [html.H4(row["label"]), *([html.P(alert, className="alert")] if alert else [])]
    if row["consent"] != "given":
        children.append(html.P(NOT_ANALYSED[row["consent"]], className="muted"))
    elif row["shown"] is None:
        children.append(html.P("no face in view", className="muted"))
    else:
        probabilities = {e: row[e] for e in EMOTIONS}
        # "unclear: A or B" when the model is not sure: muted, in no expression's colour.
        children += [
            html.P(row["shown"], className="dominant muted" if row["unclear"] else "dominant",
                   style={} if row["unclear"] else {"color": COLOURS[row["leading"]]}),
            html.P(f"quality {positivity(probabilities):.0f} · face in view "
                   f"{percent(row['face_presence'])} · facing the screen "
                   f"{percent(row['facing_screen'])}"),
            html.Div([_bar(e, probabilities[e]) for e in EMOTIONS], className="bars"),
        ]
    if row["consent"] == "given" and row["others_in_view"]:
        children.append(html.P("someone else in view (not analysed)", className="muted others"))
    return html.Div(children, className="card alerting" if alert else "card")


def _alert(row: dict) -> str | None:
    """The lasting-negativity alert of contracts.alert, as the consultant's room shows it."""
    if row["consent"] != "given" or row["negative_for_s"] is None:
        return None
    return f"negative expressions for the last {row['negative_for_s']:.0f} s"


def _bar(emotion: str, share: float) -> html.Div:
    return html.Div([html.Span(emotion), html.Span(className="fill", style={
        "width": f"{100 * share:.0f}%", "background": COLOURS[emotion]})], className="bar")
