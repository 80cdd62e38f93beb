"""History: sessions by consultant, dates and score; each consultant's quality, share of the
talk and interruptions of clients week by week, and consultants side by side."""

from __future__ import annotations

from itertools import groupby
from statistics import fmean

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashboard import data
from dashboard.formats import NONE, chart_text
from dashboard.tables import session_row, session_table

WEEK_MS = 7 * 24 * 3600 * 1000
NO_SPEECH = "No session in these dates where a consultant and a client agreed to voice analysis."

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
        html.P("Speech: sessions where a consultant and at least one client or student agreed "
               "to voice analysis. Shares are of the analysed people's talk; someone without "
               "voice consent is not counted, not silent.", className="hint"),
        dcc.Graph(id="weekly-talk", config={"displayModeBar": False}),
        dcc.Graph(id="weekly-interruptions", config={"displayModeBar": False}),
        html.Div(id="comparison"),
        html.Div(id="history-sessions"),
    ])


@callback(Output("weekly", "figure"), Output("weekly-talk", "figure"),
          Output("weekly-interruptions", "figure"), Output("comparison", "children"),
          Output("history-sessions", "children"), Input("consultant", "value"),
          Input("dates", "start_date"), Input("dates", "end_date"),
          Input("min-quality", "value"))
def refresh(consultant: str | None, start: str | None, end: str | None,
            min_quality: float | None
            ) -> tuple[go.Figure, go.Figure, go.Figure, html.Table, html.Div]:
    weeks = data.weekly_quality(start, end)
    talk = data.weekly_speech(start, end)
    sessions = data.history(consultant, start, end, min_quality)
    return (_weekly(weeks, "quality", "Quality per consultant, week by week (0-100)", 100),
            _weekly(talk, "talk_share", "Consultant's share of the talk, week by week (%)", 100,
                    NO_SPEECH),
            _weekly(talk, "clients_interrupted", "Clients or students the consultant "
                    "interrupted, per session, week by week", None, NO_SPEECH),
            _comparison(weeks, talk), (
                session_table([session_row(s) for s in sessions]) if sessions
                else html.P("No session matches these filters.")))


def _weekly(weeks: list[dict], value: str, title: str, top: float | None,
            empty: str = "No session with faces analysed in these dates.") -> go.Figure:
    """One line per consultant of ``value`` week by week, from 0 to ``top`` (or as high as it
    goes); ``empty`` said instead of empty axes."""
    figure = go.Figure([go.Scatter(x=[w["week"] for w in rows], y=[w[value] for w in rows],
                                   name=chart_text(name), mode="lines+markers")
                        for name, rows in ((n, list(r)) for n, r in
                                           groupby(weeks, key=lambda w: w["consultant"]))])
    # Whole names in hover labels, not their first 15 characters.
    figure.update_layout(title=title, height=320, margin={"t": 40, "b": 30}, showlegend=True,
                         yaxis={"range": [0, top]} if top else {"rangemode": "tozero"},
                         hoverlabel={"namelength": -1},
                         xaxis={"tickformat": "week of %d %b", "dtick": WEEK_MS})
    if not weeks:
        figure.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, annotations=[
            {"text": empty, "showarrow": False, "xref": "paper", "yref": "paper"}])
    return figure


def _comparison(weeks: list[dict], talk: list[dict]) -> html.Table:
    faces = {name: list(own) for name, own in groupby(weeks, key=lambda w: w["consultant"])}
    speech = {name: list(own) for name, own in groupby(talk, key=lambda w: w["consultant"])}
    rows = [html.Tr([html.Td(name), html.Td(sum(w["sessions"] for w in faces.get(name, []))),
                     html.Td(_mean(faces.get(name), "quality", "{:.0f}")),
                     html.Td(_mean(faces.get(name), "face_presence", "{:.0%}")),
                     html.Td(sum(w["sessions"] for w in speech.get(name, []))),
                     html.Td(_mean(speech.get(name), "talk_share", "{:.0f}%")),
                     html.Td(_mean(speech.get(name), "clients_interrupted", "{:.1f}"))])
            for name in sorted(faces.keys() | speech.keys())]
    header = html.Tr([html.Th(c) for c in (
        "Consultant", "Sessions with faces", "Quality (mean of weeks)", "Face in view",
        "Sessions with speech", "Consultant's talk share (mean of weeks)",
        "Clients interrupted per session")])
    return html.Table([html.Thead(header), html.Tbody(rows)], id="comparison-table")


def _mean(weeks: list[dict] | None, value: str, shown: str) -> str:
    """The mean of ``value`` over the weeks, as ``shown`` formats it; a dash without weeks."""
    return shown.format(fmean(w[value] for w in weeks)) if weeks else NONE
