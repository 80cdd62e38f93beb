"""History: sessions by consultant, dates and score; each consultant's quality week by week,
and consultants side by side."""

from __future__ import annotations

from itertools import groupby
from statistics import fmean

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashboard import data
from dashboard.formats import chart_text
from dashboard.tables import session_row, session_table

WEEK_MS = 7 * 24 * 3600 * 1000

dash.register_page(__name__, path="/history", name="History", title="econsult · history",
                   order=2)


def layout(**_: object) -> html.Div:
    return html.Div([
        html.H2("History"),
        html.Div([
            html.Label(["Consultant", dcc.Dropdown(data.consultants(), id="consultant",
                                                   placeholder="all")]),
            html.Label(["From – to", dcc.DatePickerRange(id="dates")]),
            html.Label(["Quality at least", dcc.Input(id="min-quality", type="number",
                                                      min=0, max=100, debounce=True)]),
        ], className="filters"),
        dcc.Graph(id="weekly", config={"displayModeBar": False}),
        html.Div(id="comparison"),
        html.Div(id="history-sessions"),
    ])


@callback(Output("weekly", "figure"), Output("comparison", "children"),
          Output("history-sessions", "children"), Input("consultant", "value"),
          Input("dates", "start_date"), Input("dates", "end_date"),
          Input("min-quality", "value"))
def refresh(consultant: str | None, start: str | None, end: str | None,
            min_quality: float | None) -> tuple[go.Figure, html.Table, html.Div]:
    weeks = data.weekly_quality(start, end)
    sessions = data.history(consultant, start, end, min_quality)
    return _weekly(weeks), _comparison(weeks), (
        session_table([session_row(s) for s in sessions]) if sessions
        else html.P("No session matches these filters."))


def _weekly(weeks: list[dict]) -> go.Figure:
    figure = go.Figure([go.Scatter(x=[w["week"] for w in rows], y=[w["quality"] for w in rows],
                                   name=chart_text(name), mode="lines+markers")
                        for name, rows in ((n, list(r)) for n, r in
                                           groupby(weeks, key=lambda w: w["consultant"]))])
    # Whole names in hover labels, not their first 15 characters.
    figure.update_layout(title="Quality per consultant, week by week (0-100)", height=320,
                         yaxis={"range": [0, 100]}, margin={"t": 40, "b": 30}, showlegend=True,
                         hoverlabel={"namelength": -1},
                         xaxis={"tickformat": "week of %d %b", "dtick": WEEK_MS})
    return figure


def _comparison(weeks: list[dict]) -> html.Table:
    rows = []
    for name, own in groupby(weeks, key=lambda w: w["consultant"]):
        own = list(own)
        rows.append(html.Tr([html.Td(name), html.Td(sum(w["sessions"] for w in own)),
                             html.Td(f"{fmean(w['quality'] for w in own):.0f}"),
                             html.Td(f"{fmean(w['face_presence'] for w in own):.0%}")]))
    header = html.Tr([html.Th(c) for c in ("Consultant", "Sessions", "Quality (mean of weeks)",
                                           "Face in view")])
    return html.Table([html.Thead(header), html.Tbody(rows)], id="comparison-table")
