"""``econsult bench``: prints every speed figure the README and the notes quote."""

from __future__ import annotations

import re

from bench.codec_cost import codec_cost
from bench.components import detector_figures, model_faces_per_second
from bench.dashboard_load import run_dashboard_bench
from bench.dashboard_server import run_server_bench
from bench.expressions import expression_figures
from bench.history import history_figures
from bench.host import describe_cpu
from bench.pipeline import run_pipeline_bench
from bench.real_faces import MediaMissing, real_face_figures
from bench.room_load import run_room_bench
from bench.speech import (
    Figure,
    conversation_figures,
    corpus_figures,
    cost_figures,
    delay_figures,
)
from contracts.settings import Settings


def run(settings: Settings, what: str, workers: int, participants: list[int],
        seconds: float, scale: list[float]) -> int:
    print(f"measuring on {describe_cpu()}, one CPU thread per process …", flush=True)
    if what == "dashboard":
        _print(run_server_bench(settings))
        _print(run_dashboard_bench(settings))
        return 0
    if what == "history":
        _print_against(history_figures(settings, scale))
        return 0
    if what == "speech":
        try:
            _print_against(corpus_figures())
        except FileNotFoundError as exc:
            print(f"  no labelled speech to measure on: {exc}")
            return 1
        _print_against(conversation_figures())
        _print_against(cost_figures())
        _print_against(delay_figures(settings))
        return 0
    if what == "room":
        _print(codec_cost(settings))
        _print(run_room_bench(settings, participants, seconds, workers))
        return 0
    if what == "class":
        # Only this one opens a browser: Playwright is a dev dependency, not every install's.
        from bench.class_load import run_class_bench

        _print(run_class_bench(settings, participants, seconds, workers))
        return 0
    if what in ("faces", "expressions"):
        try:
            if what == "faces":
                _print(detector_figures())
                _print(real_face_figures())
            else:
                _print_against(expression_figures(settings.model_path))
        except MediaMissing as exc:
            print(f"  no real clips measured: {exc}")
            return 1
        return 0
    _print(model_faces_per_second(settings.model_path))
    _print(run_pipeline_bench(settings, workers))
    return 0


# Costs in milliseconds ("JPEG ms a frame", "VP8 decode ms/frame"), where a fraction of one
# matters; latencies ("p95 ms", at the name's end) are shown to a tenth.
_MS = re.compile(r"\bms[ /]")


def _print(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        shown = (f"{value:.1%}" if "recall" in name or "share" in name
                 else f"{value:.3f}" if "crop" in name or _MS.search(name) or "seconds" in name
                 else f"{value:.2f}" if "% of a core per" in name
                 else f"{value:,.1f}")
        print(f"  {name:<66} {shown:>10}", flush=True)


def _print_against(figures: list[Figure]) -> None:
    """Each figure beside the issue's target for it, and whether it is met."""
    for figure in figures:
        verdict = {None: "", True: "met", False: "MISSED"}[figure.met]
        print(f"  {figure.name:<66} {figure.shown:>10}  {figure.target:<9} {verdict}".rstrip(),
              flush=True)
