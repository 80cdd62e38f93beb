"""Sessions: every consultation and class, newest first, with its quality score."""

from __future__ import annotations

import dash
from dash import html

from dashboard import data
from dashboard.tables import session_row, session_table

dash.register_page(__name__, path="/", name="Sessions", title="econsult · sessions", order=0)


def layout(**_: object) -> html.Div:
    sessions = data.recent_sessions()
    if not sessions:
        return html.Div([html.H2("Sessions"), html.P(
            "No session yet: run a consult room, or `econsult analyze` a recording.")])
    return html.Div([
        html.H2("Sessions"),
        html.P("Quality: mean positivity of clients' and students' faces, 0-100 "
               "(see About the numbers).", className="hint"),
        session_table([session_row(s) for s in sessions]),
    ])
