"""The session report's speech section: who spoke when (one row per person analysed, with
interruptions marked), each person's measures as the ``speech_summary`` view gives them, the
session's silence, and who was not analysed; and those measures as CSV rows."""

from __future__ import annotations

from dash import dcc, html

from dashboard.formats import NONE, chart_text, seconds
from dashboard.voice import LIMITS, NOT_ANALYSED

COLUMNS = ("Person", "Talk share", "Talk time", "Turns", "Longest monologue",
           "Interruptions made", "Times interrupted", "Spoke before first interrupted",
           "Median response pause")
CSV_FIELDS = ("participant_id", "participant", "role", "voice_consent", "analysed", "talk_s",
              "talk_share", "turns", "longest_monologue_s", "interruptions_made",
              "times_interrupted", "spoke_before_interrupted_s", "median_response_pause_s")
ROW_HEIGHT = 40


def section(people: list[dict], segments: list[dict], cuts: list[dict],
            silence: dict | None) -> html.Section:
    """``people``: data.speech's rows; ``segments``, ``cuts``: the session's speech segments
    and interruptions; ``silence``: its row of ``session_speech``."""
    heading = html.H3("Who spoke when")
    analysed = [p for p in people if p["analysed"]]
    if not analysed:
        return html.Section([heading, html.P(
            "Nobody in this session agreed to voice analysis: there are no speech measures.",
            className="hint")], id="speech")
    left_out = [p["label"] for p in people if not p["analysed"]]
    return html.Section([
        heading,
        html.P(LIMITS, className="hint"),
        dcc.Graph(figure=_timeline(analysed, segments, cuts), config={"displayModeBar": False},
                  id="speech-timeline") if segments else html.P("Nobody analysed spoke."),
        *([html.P(f"Silence (nobody analysed speaking, between the first and last speech): "
                  f"{seconds(silence['silence_s'])} · longest "
                  f"{seconds(silence['longest_silence_s'])}.", id="silence")]
          if silence else []),
        _table(people),
        *([html.P(f"Not analysed (no voice consent): {', '.join(left_out)}. They were not "
                  "silent: their speech is not recorded.", className="not-analysed")]
          if left_out else []),
    ], id="speech")


def csv_rows(people: list[dict]) -> list[dict]:
    """data.speech's rows as the speech CSV has them (empty measures: not analysed)."""
    return [{**person, "participant": person["label"]} for person in people]


def _table(people: list[dict]) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(c) for c in COLUMNS])),
                       html.Tbody([_row(p) for p in people])], id="speech-table")


def _row(person: dict) -> html.Tr:
    name = html.Td(person["label"])
    if not person["analysed"]:
        return html.Tr([name, html.Td(NOT_ANALYSED["declined"], colSpan=len(COLUMNS) - 1,
                                      className="muted")], className="not-analysed")
    before = person["spoke_before_interrupted_s"]
    pause = person["median_response_pause_s"]
    # Whether clients and students get to finish is what the column is for.
    client = person["role"] != "consultant"
    return html.Tr([
        name,
        html.Td(NONE if person["talk_share"] is None else f"{person['talk_share']:.0f}%",
                className="share"),
        html.Td(seconds(person["talk_s"])),
        html.Td(person["turns"]),
        html.Td(seconds(person["longest_monologue_s"])),
        html.Td(person["interruptions_made"]),
        html.Td(person["times_interrupted"]),
        html.Td("not interrupted" if before is None else seconds(before),
                className="before-cut highlight" if client else "before-cut"),
        html.Td(NONE if pause is None else f"{pause:.1f} s"),
    ], className=person["role"])


def _timeline(analysed: list[dict], segments: list[dict], cuts: list[dict]) -> dict:
    """One row per person analysed, a bar for each time they spoke; × where someone was cut
    off. Plain dicts, as the report's other charts, and names escaped for Plotly."""
    rows = {p["participant_id"]: chart_text(p["label"]) for p in analysed}
    bars = []
    for who, row in rows.items():
        own = [s for s in segments if s["participant_id"] == who]
        spans = [(s["ended_at"] - s["started_at"]).total_seconds() for s in own]
        bars.append({"type": "bar", "orientation": "h", "name": row, "y": [row] * len(own),
                     "base": [s["started_at"] for s in own],
                     "x": [1000 * span for span in spans], "customdata": spans,
                     "hovertemplate": "%{y}: %{base|%H:%M:%S}, %{customdata:.1f} s"
                                      "<extra></extra>"})
    marks = {"type": "scatter", "mode": "markers", "name": "cut off",
             "x": [c["at"] for c in cuts], "y": [rows[c["of_participant"]] for c in cuts],
             "customdata": [rows[c["by_participant"]] for c in cuts],
             "marker": {"symbol": "x-thin-open", "size": 12, "color": "#b00020",
                        "line": {"width": 2}},
             "hovertemplate": "%{y} cut off by %{customdata} at %{x|%H:%M:%S}<extra></extra>"}
    return {"data": [*bars, marks], "layout": {
        "title": {"text": "Who spoke when (× someone cut off mid-utterance)"},
        "height": 110 + ROW_HEIGHT * len(rows), "barmode": "overlay", "showlegend": False,
        "xaxis": {"type": "date", "tickformat": "%H:%M:%S"},
        "yaxis": {"type": "category", "categoryorder": "array",
                  "categoryarray": list(rows.values()), "autorange": "reversed",
                  "automargin": True},
        "margin": {"t": 40, "b": 30}, "hoverlabel": {"namelength": -1}}}
