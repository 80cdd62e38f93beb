"""How numbers and names read on every page: a dash where there is nothing to show, lengths
of time in seconds and minutes, and a person's name as the text they typed, in charts too."""

from __future__ import annotations

NONE = "–"


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value:.0%}"


def whole(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f}"


def seconds(value: float | None) -> str:
    """A length of time to the second: "42 s", "3 min 05 s", "1 h 02 min"."""
    if value is None:
        return NONE
    whole_s = round(value)
    if whole_s < 60:
        return f"{whole_s} s"
    minutes, rest = divmod(whole_s, 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def chart_text(text: str) -> str:
    """``text`` as a Plotly chart shows it, character for character, in a legend, a hover label
    or a title. Plotly reads tags in those (``<a href>`` becomes a link, ``<b>`` bold, ``<br>``
    a new line) and entities (``&amp;``, ``&lt;``, ``&#39;``); Dash components and tables show
    text as it is, charts need this. Only ``&``, ``<`` and ``>`` are escaped: Plotly knows no
    ``&quot;``, quotes show as they are."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
