"""What machine a figure was measured on: the served model's speed depends on its instructions."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The served model computes in 8-bit integers. CPUs with 8-bit dot-product instructions ran it
# at 0.41-0.46 ms a face (batch 32, AMD EPYC Zen 5); on an AMD EPYC with AVX2 only, the previous
# model took 2.2 ms, more than in floats.
DOT_PRODUCT_FLAGS = ("avx512_vnni", "avx_vnni", "asimddp")


def describe_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """One line naming the CPU, its core count and whether it has 8-bit dot products."""
    fields = _first_processor(cpuinfo)
    name = fields.get("model name") or platform.processor() or platform.machine()
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    dot = sorted(flags.intersection(DOT_PRODUCT_FLAGS))
    has = f"yes ({', '.join(dot)})" if dot else "no"
    return f"{name}, {os.cpu_count()} cores, 8-bit dot-product instructions: {has}"


def _first_processor(cpuinfo: Path) -> dict[str, str]:
    if not cpuinfo.is_file():
        return {}
    fields: dict[str, str] = {}
    for line in cpuinfo.read_text().splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields
