"""How numbers and names read on every page: a dash where there is nothing to show, and a
person's name as the text they typed, in charts too."""

from __future__ import annotations

NONE = "–"


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value:.0%}"


def whole(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f}"


def chart_text(text: str) -> str:
    """``text`` as a Plotly chart shows it, character for character, in a legend, a hover label
    or a title. Plotly reads tags in those (``<a href>`` becomes a link, ``<b>`` bold, ``<br>``
    a new line) and entities (``&amp;``, ``&lt;``, ``&#39;``); Dash components and tables show
    text as it is, charts need this. Only ``&``, ``<`` and ``>`` are escaped: Plotly knows no
    ``&quot;``, quotes show as they are."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
