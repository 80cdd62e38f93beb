"""Prometheus metrics of the ingest service, served at /metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram


@dataclass(frozen=True)
class IngestMetrics:
    frames_received: Counter
    frames_sampled: Counter
    frames_dropped: Counter
    frames_published: Counter
    peers: Gauge
    encode_seconds: Histogram


METRICS = IngestMetrics(
    frames_received=Counter("econsult_ingest_frames_received_total",
                            "Frames decoded from analysis tracks"),
    frames_sampled=Counter("econsult_ingest_frames_sampled_total",
                           "Frames taken at the sampling rate"),
    frames_dropped=Counter("econsult_ingest_frames_dropped_total",
                           "Sampled frames not published: publisher busy or workers behind"),
    frames_published=Counter("econsult_ingest_frames_published_total",
                             "Frames added to the frames stream"),
    peers=Gauge("econsult_ingest_analysis_peers", "Open analysis peer connections"),
    encode_seconds=Histogram("econsult_ingest_frame_encode_seconds",
                             "Time to convert and JPEG-encode a sampled frame"),
)
