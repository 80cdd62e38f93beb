"""What a worker does with one batch: room events, then frames, each committed before XACK.

Workers take entries in parallel, so an entry can arrive before what it refers to is
committed by another worker: a participant's join before its session's start, a frame before
its participant's join. Such an entry waits here, retried with every batch, for up to
``WAIT_S``; then it goes to the dead-letter stream. Frames are analysed only for participants
whose consent is recorded; the others are acknowledged unanalysed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import numpy as np
from sqlalchemy import Engine

from contracts.labels import EMOTIONS
from contracts.stream import Frame, LiveUpdate, RoomEvent, StreamFormatError, publish_live_update
from worker.analysis import FrameAnalyser, UnreadableImage, decode_image
from worker.consumer import Batch, Entry, StreamConsumer
from worker.emotion_model import EmotionClassifier
from worker.events import (
    AnalysedFrame,
    apply_room_event,
    consenting_participants,
    store_frames,
)
from worker.faces import FaceDetector

log = logging.getLogger("econsult.worker")
WAIT_S = 10.0
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
        self._logged: Counter[str] = Counter()

    @property
    def model_version(self) -> str:
        return self.analyser.model_version

    def block_ms(self, idle_block_ms: int) -> int:
        """How long to wait for new entries: briefly while entries wait for what they name."""
        return RETRY_BLOCK_MS if self._waiting else idle_block_ms

    def handle(self, batch: Batch) -> None:
        room_events = self._with_waiting(batch.room_events, self.consumer.keys.room_events)
        if room_events:
            self._room_events(room_events)
        frames = self._with_waiting(batch.frames, self.consumer.keys.frames)
        if frames:
            self._frames(frames)
        self._log_progress()

    def _with_waiting(self, entries: list[Entry], stream: str) -> list[Entry]:
        # A waiting entry may also come back claimed; by id, each is handled once.
        merged = {e.id: e for e, _ in self._waiting.values() if e.stream == stream}
        merged |= {e.id: e for e in entries}
        return list(merged.values())

    def _room_events(self, entries: list[Entry]) -> None:
        decoded = []
        for entry in entries:
            try:
                decoded.append((entry, RoomEvent.decode(entry.fields)))
            except StreamFormatError as exc:
                self._reject(entry, f"room event: {exc}")
        applied: dict[bytes, Entry] = {}
        with self.engine.begin() as conn:
            # Until no more apply: an end before its session's start in the same batch is then
            # recorded now, not in a later pass that a busy worker could start after WAIT_S.
            while newly := {e.id: e for e, event in decoded
                            if e.id not in applied and apply_room_event(conn, event)}:
                applied |= newly
        self._done(list(applied.values()))
        self._wait([(e, "the session or participant it names was never recorded")
                    for e, _ in decoded if e.id not in applied])
        self.totals["room_events"] += len(applied)

    def _frames(self, entries: list[Entry]) -> None:
        decoded = [d for d in map(self._decode, entries) if d is not None]
        with self.engine.connect() as conn:
            consent = consenting_participants(conn, {d.frame.participant_id for d in decoded})
        ready = [d for d in decoded if consent.get(d.frame.participant_id)]
        unconsented = [d for d in decoded if consent.get(d.frame.participant_id) is False]
        if ready:
            analysed = self.analyser.analyse([d.frame for d in ready], [d.image for d in ready])
            with self.engine.begin() as conn:
                store_frames(conn, analysed, self.model_version)
            self._publish_live(analysed)
            self.totals["frames"] += len(ready)
            self.totals["faces"] += sum(len(a.faces) for a in analysed)
        # Frames of someone who has not consented are dropped unseen, never stored anywhere.
        self._done([d.entry for d in ready + unconsented])
        self.totals["frames_without_consent"] += len(unconsented)
        self._wait([(d.entry, f"participant {d.frame.participant_id} never joined")
                    for d in decoded if d.frame.participant_id not in consent])

    def _publish_live(self, analysed: list[AnalysedFrame]) -> None:
        """The newest stored frame of each participant, for the room's live feedback."""
        newest: dict[UUID, AnalysedFrame] = {}
        for frame in analysed:
            if frame.participant_id not in newest or frame.seq > newest[frame.participant_id].seq:
                newest[frame.participant_id] = frame
        for frame in newest.values():
            # The detector lists faces most confident first.
            probabilities = (dict(zip(EMOTIONS, map(float, frame.faces[0].probabilities),
                                      strict=True)) if frame.faces else None)
            publish_live_update(self.consumer.client, self.consumer.keys, LiveUpdate(
                frame.session_id, frame.participant_id, frame.captured_at, len(frame.faces),
                probabilities))

    def _decode(self, entry: Entry) -> _Decoded | None:
        try:
            frame = Frame.decode(entry.fields)
            return _Decoded(entry, frame, decode_image(frame.jpeg))
        except (StreamFormatError, UnreadableImage) as exc:
            self._reject(entry, f"frame: {exc}")
            return None

    def _done(self, entries: list[Entry]) -> None:
        self.consumer.ack(entries)
        for entry in entries:
            self._waiting.pop(entry.id, None)

    def _wait(self, entries: Iterable[tuple[Entry, str]]) -> None:
        now = time.monotonic()
        for entry, reason in entries:
            _, since = self._waiting.setdefault(entry.id, (entry, now))
            if now - since > WAIT_S:
                self._reject(entry, f"{reason} within {WAIT_S:.0f} s")

    def _reject(self, entry: Entry, reason: str) -> None:
        log.warning("dead-lettered %s %s: %s", entry.stream, entry.id.decode(), reason)
        self.consumer.reject(entry, reason)
        self._waiting.pop(entry.id, None)
        self.totals["dead_lettered"] += 1

    def _log_progress(self) -> None:
        if time.monotonic() - self._last_log >= LOG_EVERY_S and self.totals != self._logged:
            self._last_log, self._logged = time.monotonic(), self.totals.copy()
            log.info("%s so far: %s", self.consumer.name, dict(self.totals))
