"""What a worker does with one batch: room events, then frames, each committed before XACK.

Workers take entries in parallel, so an entry can arrive before what it refers to is
committed by another worker: a participant's join before its session's start, a frame before
its participant's join. Such an entry waits (worker/waiting.py); if what it names never comes,
it goes to the dead-letter stream. Frames are analysed only while their participant's consent
stands (contracts.consent); those of someone who withdrew it, and anything of an erased
session or person, are dropped unanalysed. An entry that PostgreSQL refuses to store is found
by writing the batch one entry at a time, and goes to the dead-letter stream alone.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import numpy as np
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from contracts.consent import frame_consent
from contracts.emotion_model import EmotionClassifier
from contracts.frames import Frame
from contracts.labels import EMOTIONS
from contracts.live_updates import LiveUpdate, LiveUpdates, publish_live_updates
from contracts.outage import OUTAGES, first_line
from contracts.retention import PASS_EVERY_S, retention_pass
from contracts.room_events import RoomEvent
from contracts.settings import Settings
from contracts.stream_fields import StreamFormatError
from worker.analysis import AnalysedFrame, FrameAnalyser, UnreadableImage, decode_image
from worker.consumer import Batch, Entry, StreamConsumer
from worker.events import (
    EntryRefused,
    RecentlySeen,
    apply_room_event,
    close_silent_sessions,
    erased,
    frames_people,
    last_sightings,
    seen,
    store_frames,
)
from worker.faces import FaceDetector
from worker.summaries import refresh_summaries
from worker.waiting import WaitingRoom

log = logging.getLogger("econsult.worker")
# Beyond a takeover, the time a worker may take over a batch before the waiting entry's turn.
WAIT_MARGIN_S = 10.0
RETRY_BLOCK_MS = 100
LOG_EVERY_S = 10.0
SILENCE_CHECK_S = 30.0
# Values PostgreSQL cannot store, or that contradict a constraint: the entry's fault, not an
# outage's, so it is dead-lettered instead of retried.
REFUSED_BY_DATABASE = (DataError, IntegrityError)
# What became of an entry written: done with (acknowledged), or the reason it is refused.
APPLIED, ERASED, ALREADY_STORED = "applied", "erased", "already stored"
DONE = (APPLIED, ERASED, ALREADY_STORED)
T = TypeVar("T")


@dataclass(frozen=True)
class _Decoded:
    entry: Entry
    frame: Frame
    image: np.ndarray


class BatchHandler:
    def __init__(self, consumer: StreamConsumer, engine: Engine, detector: FaceDetector,
                 classifier: EmotionClassifier, settings: Settings) -> None:
        self.consumer = consumer
        self.engine = engine
        self.analyser = FrameAnalyser(detector, classifier)
        self.settings = settings
        self.totals: Counter[str] = Counter()
        self.waiting = WaitingRoom(consumer.takeover_s + WAIT_MARGIN_S)
        self._last_log = time.monotonic()
        self._logged: Counter[str] = Counter()
        self._silence_checked = time.monotonic()
        self._summarised = 0.0  # the first batch refreshes the summaries
        self._retained = 0.0  # and keeps to the retention policy
        self._seen = RecentlySeen()

    @property
    def model_version(self) -> str:
        return self.analyser.model_version

    def block_ms(self, idle_block_ms: int) -> int:
        """How long to wait for new entries: briefly while entries wait for what they name."""
        return RETRY_BLOCK_MS if self.waiting else idle_block_ms

    def handle(self, batch: Batch) -> None:
        room_events = self._with_waiting(batch.room_events, self.consumer.keys.room_events)
        if room_events:
            self._room_events(room_events)
        frames = self._with_waiting(batch.frames, self.consumer.keys.frames)
        if frames:
            self._frames(frames)
        self.consumer.keep(self.waiting.entries())
        self._close_silent_sessions()
        self._summarise()
        self._keep_to_policy()
        self._log_progress()

    def outage_over(self) -> None:
        """Nothing could arrive while a service was down: waiting entries wait anew."""
        self.waiting.restart_clocks()

    def _with_waiting(self, entries: list[Entry], stream: str) -> list[Entry]:
        # A waiting entry may also come back claimed; by id, each is handled once.
        merged = {e.id: e for e in self.waiting.entries(stream)}
        merged |= {e.id: e for e in entries}
        return list(merged.values())

    def _room_events(self, entries: list[Entry]) -> None:
        decoded = []
        for entry in entries:
            try:
                decoded.append((entry, RoomEvent.decode(entry.fields)))
            except StreamFormatError as exc:
                self._reject(entry, f"room event: {exc}")
        with self.engine.connect() as conn:
            outcome = self._write(conn, [(e.id, event) for e, event in decoded], self._apply,
                                  "room event")
        self._settle([(e, outcome.get(e.id)) for e, _ in decoded], "room event",
                     "the session or participant it names was never recorded")
        self.totals["room_events"] += sum(v == APPLIED for v in outcome.values())
        self.totals["erased"] += sum(v == ERASED for v in outcome.values())

    def _apply(self, conn: Connection, decoded: Sequence[tuple[bytes, RoomEvent]]
               ) -> dict[bytes, str]:
        """Each entry's outcome: applied, erased, or why it is refused; absent while it waits."""
        gone = erased(conn, [ids for _, event in decoded
                             for ids in (event.session_id, event.participant_id) if ids])
        outcome = {key: ERASED for key, event in decoded
                   if gone & {event.session_id, event.participant_id}}
        # Until no more apply: an end before its session's start in the same batch is then
        # recorded now, not in a later pass that a busy worker could start only much later.
        progress = True
        while progress:
            progress = False
            for key, event in decoded:
                if key in outcome:
                    continue
                try:
                    if apply_room_event(conn, event):
                        outcome[key] = APPLIED
                        progress = True
                except EntryRefused as exc:
                    outcome[key] = str(exc)
        seen(conn, [event.session_id for key, event in decoded if outcome.get(key) == APPLIED])
        return outcome

    def _frames(self, entries: list[Entry]) -> None:
        decoded = [d for d in map(self._decode, entries) if d is not None]
        # One connection for the batch: what its frames need to know, then what they gave.
        with self.engine.connect() as conn:
            ready, dropped, waiting = self._sort_frames(conn, decoded)
            sightings = last_sightings(conn, _first_of_each_capture(ready))
            if ready:
                analysed = self.analyser.analyse([d.frame for d in ready],
                                                 [d.image for d in ready], sightings)
                outcome = self._write(conn, [(d.entry.id, a) for d, a in zip(ready, analysed,
                                                                              strict=True)],
                                      self._store, "frame")
            else:
                conn.rollback()  # of the reads: nothing to write
        self._done([d.entry for d in dropped])
        if ready:
            self._publish_live([a for d, a in zip(ready, analysed, strict=True)
                                if outcome.get(d.entry.id) == APPLIED])
            self._settle([(d.entry, outcome.get(d.entry.id)) for d in ready], "frame", "")
            self.totals["frames"] += sum(v == APPLIED for v in outcome.values())
            self.totals["own_faces"] += sum(a.face is not None for a in analysed)
        self._wait([(d.entry, f"participant {d.frame.participant_id} never joined")
                    for d in waiting])

    def _sort_frames(self, conn: Connection, decoded: list[_Decoded]
                     ) -> tuple[list[_Decoded], list[_Decoded], list[_Decoded]]:
        """Frames to analyse, frames to drop unanalysed, frames waiting for their participant."""
        people, gone = frames_people(conn, (d.frame.participant_id for d in decoded),
                                     (d.frame.session_id for d in decoded))
        ready, dropped, waiting = [], [], []
        for d in decoded:
            frame, joined = d.frame, people.get(d.frame.participant_id)
            if gone & {frame.session_id, frame.participant_id}:
                dropped.append(d)
                self.totals["frames_erased"] += 1
            elif joined is None:
                waiting.append(d)
            elif joined.session_id != frame.session_id:
                self._reject(d.entry, f"frame: participant {frame.participant_id} belongs to "
                                      f"session {joined.session_id}, not {frame.session_id}")
            else:
                consent = frame_consent(joined.consent_at, joined.consent_withdrawn_at,
                                        frame.captured_at)
                if consent == "wait" and self.waiting.waited_out(d.entry):
                    consent = "drop"
                {"analyse": ready, "drop": dropped, "wait": waiting}[consent].append(d)
                # Never analysed, never stored anywhere: consent does not stand.
                self.totals["frames_without_consent"] += consent == "drop"
        return ready, dropped, waiting

    def _store(self, conn: Connection, items: Sequence[tuple[bytes, AnalysedFrame]]
               ) -> dict[bytes, str]:
        stored = {a.frame for a in store_frames(conn, [a for _, a in items], self.model_version)}
        seen(conn, self._seen.due(a.frame.session_id for _, a in items))
        # A frame delivered again is already stored: done, but shown live only the first time.
        return {key: APPLIED if a.frame in stored else ALREADY_STORED for key, a in items}

    def _write(self, conn: Connection, items: Sequence[tuple[bytes, T]],
               write: Callable[[Connection, Sequence[tuple[bytes, T]]], dict[bytes, str]],
               what: str) -> dict[bytes, str]:
        """``write`` the items and commit, in the transaction ``conn`` is in, or, if PostgreSQL
        refuses them, one at a time, so that an item it refuses is the only one refused (with
        the database's reason)."""
        if len(items) > 1:
            try:
                outcome = write(conn, items)
                conn.commit()
                self._seen.committed()
                return outcome
            except REFUSED_BY_DATABASE:
                conn.rollback()
                log.info("PostgreSQL refused a batch of %ss; writing them one at a time", what)
        outcome: dict[bytes, str] = {}
        for item in items:
            try:
                outcome |= write(conn, [item])
                conn.commit()
                self._seen.committed()
            except REFUSED_BY_DATABASE as exc:
                conn.rollback()
                reason = str(exc.orig).strip().splitlines()[0]
                outcome[item[0]] = f"PostgreSQL refused it: {reason}"
        return outcome

    def _settle(self, outcomes: Sequence[tuple[Entry, str | None]], what: str,
                waits_for: str) -> None:
        """Acknowledge the entries done with, dead-letter the refused, let the others wait."""
        self._done([entry for entry, outcome in outcomes if outcome in DONE])
        for entry, outcome in outcomes:
            if outcome is not None and outcome not in DONE:
                self._reject(entry, f"{what}: {outcome}")
        self._wait([(entry, waits_for) for entry, outcome in outcomes if outcome is None])

    def _publish_live(self, stored: list[AnalysedFrame]) -> None:
        """Every frame stored now, in capture order, for the room's live reading, which smooths
        each participant's frames over a few seconds (contracts/smoothing.py): one message per
        session, in one round trip."""
        by_session: dict[UUID, list[LiveUpdate]] = {}
        for analysed in sorted(stored, key=lambda a: a.frame.captured_at):
            frame, face = analysed.frame, analysed.face
            probabilities = (dict(zip(EMOTIONS, map(float, face.probabilities), strict=True))
                             if face else None)
            facing = face.pose.facing_screen if face and face.pose else None
            by_session.setdefault(frame.session_id, []).append(LiveUpdate(
                frame.participant_id, frame.captured_at, face is not None,
                analysed.others_in_view, probabilities, facing))
        with self.consumer.client.pipeline(transaction=False) as pipe:
            for session_id, updates in by_session.items():
                publish_live_updates(pipe, self.consumer.keys, LiveUpdates(session_id, updates))
            pipe.execute()

    def _decode(self, entry: Entry) -> _Decoded | None:
        try:
            frame = Frame.decode(entry.fields)
            return _Decoded(entry, frame, decode_image(frame.jpeg))
        except (StreamFormatError, UnreadableImage) as exc:
            self._reject(entry, f"frame: {exc}")
            return None

    def _close_silent_sessions(self) -> None:
        # Only once every room event is read: a backlog may hold the news that a session lives.
        if time.monotonic() - self._silence_checked < min(SILENCE_CHECK_S,
                                                          self.settings.session_silence_s / 4):
            return
        self._silence_checked = time.monotonic()
        if not self.consumer.caught_up(self.consumer.keys.room_events):
            return
        with self.engine.begin() as conn:
            closed = close_silent_sessions(conn, self.settings.session_silence_s)
        if closed:
            log.info("closed %d session(s) nothing was heard of for %.0f s", closed,
                     self.settings.session_silence_s)

    def _summarise(self) -> None:
        if time.monotonic() - self._summarised < self.settings.summary_every_s:
            return
        self._summarised = time.monotonic()
        with self._upkeep("refreshing the session summaries"), self.engine.begin() as conn:
            self.totals["summaries"] += refresh_summaries(conn) or 0

    def _keep_to_policy(self) -> None:
        if time.monotonic() - self._retained < PASS_EVERY_S:
            return
        self._retained = time.monotonic()
        with self._upkeep("applying the retention policy"), self.engine.begin() as conn:
            done = retention_pass(conn, self.settings.retention_days,
                                  self.settings.summary_retention_days)
            if done and (done.weeks_dropped or done.sessions_deleted):
                log.info("retention: %d expired week(s) of frames dropped, %d session(s) "
                         "deleted", done.weeks_dropped, done.sessions_deleted)

    @contextmanager
    def _upkeep(self, what: str) -> Iterator[None]:
        """Upkeep that fails is tried again at its next turn; frames go on being stored (an
        outage is waited out as for frames)."""
        try:
            yield
        except OUTAGES:
            raise
        except (SQLAlchemyError, ValueError) as exc:
            log.error("%s failed: %s; trying again at its next turn", what, first_line(exc))

    def _done(self, entries: list[Entry]) -> None:
        self.consumer.ack(entries)
        for entry in entries:
            self.waiting.leave(entry)

    def _wait(self, entries: Iterable[tuple[Entry, str]]) -> None:
        for entry, reason in entries:
            if self.waiting.waited_out(entry):
                self._reject(entry, f"{reason} within {self.waiting.wait_s:.0f} s")

    def _reject(self, entry: Entry, reason: str) -> None:
        log.warning("dead-lettered %s %s: %s", entry.stream, entry.id.decode(), reason)
        self.consumer.reject(entry, reason)
        self.waiting.leave(entry)
        self.totals["dead_lettered"] += 1

    def _log_progress(self) -> None:
        if time.monotonic() - self._last_log >= LOG_EVERY_S and self.totals != self._logged:
            self._last_log, self._logged = time.monotonic(), self.totals.copy()
            log.info("%s so far: %s", self.consumer.name, dict(self.totals))


def _first_of_each_capture(ready: list[_Decoded]) -> list[tuple[UUID, UUID, int]]:
    first: dict[UUID, Frame] = {}
    for d in ready:
        frame = d.frame
        if frame.capture_id not in first or frame.seq < first[frame.capture_id].seq:
            first[frame.capture_id] = frame
    return [(f.participant_id, f.capture_id, f.seq) for f in first.values()]
