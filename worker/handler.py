"""What a worker does with one batch: room events, then frames, each committed before XACK.

Frames are analysed only for participants whose join, with consent, is recorded. A frame may
arrive before its participant's join is committed by another worker, so it waits here for up
to ``JOIN_WAIT_S``; frames of a participant without consent are acknowledged unanalysed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from contracts.stream import Frame, RoomEvent, StreamFormatError
from worker.analysis import FrameAnalyser, UnreadableImage, decode_image
from worker.consumer import Batch, Entry, StreamConsumer
from worker.emotion_model import EmotionClassifier
from worker.events import apply_room_events, consenting_participants, store_frames
from worker.faces import FaceDetector

log = logging.getLogger("econsult.worker")
JOIN_WAIT_S = 10.0
RETRY_BLOCK_MS = 100
LOG_EVERY_S = 10.0


@dataclass(frozen=True)
class _Decoded:
    entry: Entry
    frame: Frame
    image: np.ndarray


class BatchHandler:
    def __init__(self, consumer: StreamConsumer, engine: Engine, detector: FaceDetector,
                 classifier: EmotionClassifier) -> None:
        self.consumer = consumer
        self.engine = engine
        self.analyser = FrameAnalyser(detector, classifier)
        self.totals: Counter[str] = Counter()
        self._waiting: dict[bytes, tuple[Entry, float]] = {}
        self._last_log = time.monotonic()

    @property
    def model_version(self) -> str:
        return self.analyser.model_version

    def block_ms(self, idle_block_ms: int) -> int:
        """How long to wait for new entries: briefly while frames wait for their participant."""
        return RETRY_BLOCK_MS if self._waiting else idle_block_ms

    def handle(self, batch: Batch) -> None:
        if batch.room_events:
            self._room_events(batch.room_events)
        # A waiting frame may also come back claimed; by id, each is handled once.
        frames = {entry.id: entry for entry, _ in self._waiting.values()}
        frames |= {entry.id: entry for entry in batch.frames}
        if frames:
            self._frames(list(frames.values()))
        self._log_progress()

    def _room_events(self, entries: list[Entry]) -> None:
        events, valid = [], []
        for entry in entries:
            try:
                events.append(RoomEvent.decode(entry.fields))
                valid.append(entry)
            except StreamFormatError as exc:
                self._reject(entry, f"room event: {exc}")
        with self.engine.begin() as conn:
            apply_room_events(conn, events)
        self.consumer.ack(valid)
        self.totals["room_events"] += len(valid)

    def _frames(self, entries: list[Entry]) -> None:
        decoded = [d for d in map(self._decode, entries) if d is not None]
        with self.engine.connect() as conn:
            consent = consenting_participants(conn, {d.frame.participant_id for d in decoded})
        ready, unconsented = [], []
        for item in decoded:
            known = consent.get(item.frame.participant_id)
            if known is None:
                self._wait_for_join(item)
            else:
                self._waiting.pop(item.entry.id, None)
                (ready if known else unconsented).append(item)
        if ready:
            analysed = self.analyser.analyse([d.frame for d in ready], [d.image for d in ready])
            with self.engine.begin() as conn:
                store_frames(conn, analysed, self.model_version)
            self.totals["frames"] += len(ready)
            self.totals["faces"] += sum(len(a.faces) for a in analysed)
        # Frames of someone who has not consented are dropped unseen, never stored anywhere.
        self.consumer.ack([d.entry for d in ready + unconsented])
        self.totals["frames_without_consent"] += len(unconsented)

    def _decode(self, entry: Entry) -> _Decoded | None:
        try:
            frame = Frame.decode(entry.fields)
            return _Decoded(entry, frame, decode_image(frame.jpeg))
        except (StreamFormatError, UnreadableImage) as exc:
            self._waiting.pop(entry.id, None)
            self._reject(entry, f"frame: {exc}")
            return None

    def _wait_for_join(self, item: _Decoded) -> None:
        _, since = self._waiting.setdefault(item.entry.id, (item.entry, time.monotonic()))
        if time.monotonic() - since > JOIN_WAIT_S:
            del self._waiting[item.entry.id]
            self._reject(item.entry, f"participant {item.frame.participant_id} never joined: no "
                                     "participant_joined room event arrived for it")

    def _reject(self, entry: Entry, reason: str) -> None:
        log.warning("dead-lettered %s %s: %s", entry.stream, entry.id.decode(), reason)
        self.consumer.reject(entry, reason)
        self.totals["dead_lettered"] += 1

    def _log_progress(self) -> None:
        if time.monotonic() - self._last_log >= LOG_EVERY_S:
            self._last_log = time.monotonic()
            log.info("%s so far: %s", self.consumer.name, dict(self.totals))
