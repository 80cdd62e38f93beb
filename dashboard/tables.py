"""The sessions table, shared by the Sessions and History pages."""

from __future__ import annotations

from datetime import timedelta

from dash import dcc, html

from dashboard.formats import NONE, percent, whole

COLUMNS = ("Started", "Room", "Consultant", "Length", "Participants", "Frames",
           "Face in view", "Quality")


def session_table(rows: list[html.Tr]) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(c) for c in COLUMNS])), html.Tbody(rows)],
                      id="sessions")


def session_row(session: dict) -> html.Tr:
    return html.Tr([
        html.Td(session["started_at"].strftime("%Y-%m-%d %H:%M")),
        html.Td(dcc.Link(session["room"], href=f"/report/{session['session_id']}")),
        html.Td(session["consultant"] or NONE),
        html.Td(_length(session["duration"])),
        html.Td(session["participants"]),
        html.Td(session["frames"]),
        html.Td(percent(session["face_presence"])),
        html.Td(whole(session["quality"]), className="quality"),
    ])


def _length(duration: timedelta | None) -> str:
    if duration is None:
        return "running"
    minutes = round(duration.total_seconds() / 60)
    return f"{minutes} min" if minutes else "< 1 min"
