"""Sessions: every consultation and class, newest first, with its quality score."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data

dash.register_page(__name__, path="/", name="Sessions", title="econsult · sessions", order=0)

COLUMNS = ("Started", "Room", "Consultant", "Length", "Analysed", "Frames", "Face in view",
           "Quality")


def layout(**_: object) -> html.Div:
    sessions = data.recent_sessions()
    if not sessions:
        return html.Div([html.H2("Sessions"), html.P(
            "No session yet: run a consult room, or `econsult analyze` a recording.")])
    return html.Div([
        html.H2("Sessions"),
        html.P("Quality: mean positivity of clients' and students' faces, 0-100 "
               "(see About the numbers).", className="hint"),
        html.Table([html.Thead(html.Tr([html.Th(c) for c in COLUMNS])),
                    html.Tbody([_row(s) for s in sessions])], id="sessions"),
    ])


def _row(session: dict) -> html.Tr:
    return html.Tr([
        html.Td(session["started_at"].strftime("%Y-%m-%d %H:%M")),
        html.Td(dcc.Link(session["room"], href=f"/report/{session['session_id']}")),
        html.Td(session["consultant"] or "–"),
        html.Td(_length(session["duration"])),
        html.Td(f"{session['analysed_participants']} of {session['participants']}"),
        html.Td(session["frames"]),
        html.Td(_share(session["face_presence"])),
        html.Td("–" if session["quality"] is None else f"{session['quality']:.0f}",
                className="quality"),
    ])


def _length(duration: object) -> str:
    if duration is None:
        return "running"
    minutes = round(duration.total_seconds() / 60)
    return f"{minutes} min" if minutes else "< 1 min"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
