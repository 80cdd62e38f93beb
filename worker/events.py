"""What a worker writes to PostgreSQL: session lifecycle, consent, analysed samples and events,
speech segments.

Every write is idempotent (upserts, ``ON CONFLICT DO NOTHING`` on the natural keys, times that
only move forward), because an entry may be delivered again after a worker dies between its
commit and its XACK, and because producers announce their rooms again after a Redis restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from contracts.consent import COLUMNS, frame_consent
from contracts.labels import EMOTIONS
from contracts.room_events import RoomEvent
from contracts.schema import (
    ConsentChange,
    EmotionEvent,
    Erasure,
    Participant,
    Sample,
    Session,
    SpeechSegment,
)
from worker.analysis import AnalysedFace, AnalysedFrame
from worker.own_face import Sighting

# A session's last_seen_at trails the last frame stored of it by at most this (see seen()): far
# less than the silence that ends a session (ECONSULT_SESSION_SILENCE_S, 10 minutes), and
# rarely enough that a class's workers do not write it with nearly every batch (at 1 s, each
# worker sent that UPDATE, 0.9 ms of its CPU, about twice a second in `econsult bench class`).
SEEN_EVERY_S = 5.0


class EntryRefused(ValueError):
    """An entry contradicts what is recorded (a participant of another session, say)."""


@dataclass(frozen=True)
class Joined:
    """What a frame needs to know of its participant."""

    session_id: UUID
    consent_at: datetime | None
    consent_withdrawn_at: datetime | None


def apply_room_event(conn: Connection, event: RoomEvent) -> bool:
    """Record the event; False while the session or participant it names is not recorded yet.

    Workers take room events in parallel, so a join can come before its session's start.
    Raises :class:`EntryRefused` for an event that can never apply.
    """
    return _ROOM_EVENT_WRITERS[event.kind](conn, event)


def erased(conn: Connection, ids: Iterable[UUID]) -> set[UUID]:
    """Those of ``ids`` that belong to an erased session or participant."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    return set(conn.scalars(select(Erasure.id).where(Erasure.id.in_(wanted))))


def frames_people(conn: Connection, participant_ids: Iterable[UUID],
                  session_ids: Iterable[UUID]) -> tuple[dict[UUID, Joined], set[UUID]]:
    """For the frames of a batch, in one round trip: the participants among
    ``participant_ids`` whose join is recorded, and those of either kind of id erased."""
    rows = conn.execute(_FRAMES_PEOPLE, {"ids": list({*participant_ids, *session_ids})})
    joined, gone = {}, set()
    for row in rows:
        if row.session_id is not None:
            joined[row.id] = Joined(row.session_id, row.consent_at, row.consent_withdrawn_at)
        if row.erased:
            gone.add(row.id)
    return joined, gone


_FRAMES_PEOPLE = text("""
    SELECT w.id, p.session_id, p.consent_at, p.consent_withdrawn_at,
           EXISTS (SELECT FROM erasures e WHERE e.id = w.id) AS erased
    FROM unnest(CAST(:ids AS uuid[])) AS w(id) LEFT JOIN participants p ON p.id = w.id""")


def last_sightings(conn: Connection, firsts: Sequence[tuple[UUID, UUID, int]]
                   ) -> dict[UUID, Sighting]:
    """For each (participant, capture, seq): where the participant's face was last stored in
    that capture before frame ``seq``, keyed by capture."""
    if not firsts:
        return {}
    participants, captures, seqs = (list(column) for column in zip(*firsts, strict=True))
    rows = conn.execute(_LAST_SIGHTINGS,
                        {"participants": participants, "captures": captures, "seqs": seqs})
    return {row.capture_id: Sighting(row.captured_at, row.box_x, row.box_y, row.box_w, row.box_h)
            for row in rows}


_LAST_SIGHTINGS = text("""
    SELECT b.capture_id, last.captured_at, last.box_x, last.box_y, last.box_w, last.box_h
    FROM unnest(CAST(:participants AS uuid[]), CAST(:captures AS uuid[]),
                CAST(:seqs AS integer[])) AS b(participant_id, capture_id, seq)
    CROSS JOIN LATERAL (
        SELECT captured_at, box_x, box_y, box_w, box_h FROM emotion_events e
        WHERE e.participant_id = b.participant_id AND e.capture_id = b.capture_id
          AND e.seq < b.seq
        ORDER BY e.seq DESC LIMIT 1) last""")


def store_frames(conn: Connection, frames: Sequence[AnalysedFrame], model_version: str
                 ) -> list[AnalysedFrame]:
    """One multi-row insert for the samples and one for the faces; the frames stored now come
    back (a frame delivered again is skipped: it is already stored)."""
    if not frames:
        return []
    samples = [
        {"session_id": f.frame.session_id, "participant_id": f.frame.participant_id,
         "capture_id": f.frame.capture_id, "seq": f.frame.seq,
         "captured_at": f.frame.captured_at, "face_found": f.face is not None,
         **_pose_columns(f.face), "others_in_view": f.others_in_view,
         "model_version": model_version}
        for f in frames
    ]
    # Rows as parameters of one compiled statement (SQLAlchemy sends them as multi-row
    # inserts): compiling a statement with every row's values in it took most of a batch's time.
    inserted = set(conn.execute(_INSERT_SAMPLES, samples).tuples())
    stored = [f for f in frames
              if (f.frame.participant_id, f.frame.capture_id, f.frame.seq) in inserted]
    events = [_event_row(f, model_version) for f in stored if f.face is not None]
    if events:
        conn.execute(_INSERT_EVENTS, events)
    return stored


# Built once: building them anew took a tenth of a class's batch.
_INSERT_SAMPLES = (insert(Sample).on_conflict_do_nothing(constraint="uq_samples_frame")
                   .returning(Sample.participant_id, Sample.capture_id, Sample.seq))
_INSERT_EVENTS = insert(EmotionEvent).on_conflict_do_nothing(constraint="uq_emotion_events_frame")


def seen(conn: Connection, session_ids: Iterable[UUID]) -> None:
    """Something of these sessions was stored now; one closed for silence is open again.

    A session's row is written only when its last_seen_at is over half ``SEEN_EVERY_S`` old:
    workers storing its frames side by side would otherwise queue for it with every batch. With
    :class:`RecentlySeen` asking at most every half ``SEEN_EVERY_S``, last_seen_at trails the
    last frame stored by at most ``SEEN_EVERY_S``.
    """
    wanted = list(set(session_ids))
    if wanted:
        conn.execute(_SEEN, {"ids": wanted})


_SILENT = Session.end_reason == "silent"
_SEEN = (update(Session)
         .where(Session.id.in_(bindparam("ids", expanding=True)),
                (Session.last_seen_at < func.now() - timedelta(seconds=SEEN_EVERY_S / 2))
                | _SILENT)
         .values(last_seen_at=func.greatest(Session.last_seen_at, func.now()),
                 ended_at=case((_SILENT, None), else_=Session.ended_at),
                 end_reason=case((_SILENT, None), else_=Session.end_reason)))


@dataclass
class RecentlySeen:
    """The sessions one worker said were seen (:func:`seen`), in a committed transaction, less
    than half ``SEEN_EVERY_S`` ago: saying it again so soon would write nothing, at the cost of
    a statement per batch."""

    said: dict[UUID, float] = field(default_factory=dict)  # monotonic time
    saying: dict[UUID, float] = field(default_factory=dict)  # in the transaction under way

    def due(self, session_ids: Iterable[UUID]) -> list[UUID]:
        """Those of ``session_ids`` to say now, in the transaction about to be written."""
        now = time.monotonic()
        self.said = {s: at for s, at in self.said.items() if now - at < SEEN_EVERY_S / 2}
        self.saying = dict.fromkeys((s for s in set(session_ids) if s not in self.said), now)
        return list(self.saying)

    def committed(self) -> None:
        self.said |= self.saying
        self.saying = {}


def close_silent_sessions(conn: Connection, silence_s: float) -> int:
    """End the open sessions nothing was stored of for ``silence_s``; how many were ended."""
    result = conn.execute(
        update(Session)
        .where(Session.ended_at.is_(None),
               Session.last_seen_at < func.now() - timedelta(seconds=silence_s))
        .values(ended_at=Session.last_seen_at, end_reason="silent"))
    return result.rowcount


def _pose_columns(face: AnalysedFace | None) -> dict:
    pose = face.pose if face else None
    return {"head_yaw": pose.yaw if pose else None, "head_pitch": pose.pitch if pose else None,
            "facing_screen": pose.facing_screen if pose else None}


def _event_row(analysed: AnalysedFrame, version: str) -> dict:
    frame, face = analysed.frame, analysed.face
    probabilities = dict(zip(EMOTIONS, map(float, face.probabilities), strict=True))
    return {
        "session_id": frame.session_id, "participant_id": frame.participant_id,
        "capture_id": frame.capture_id, "seq": frame.seq, "captured_at": frame.captured_at,
        "box_x": face.x, "box_y": face.y, "box_w": face.w, "box_h": face.h,
        **probabilities, "dominant": max(probabilities, key=probabilities.get),
        "model_version": version,
    }


def _session_started(conn: Connection, event: RoomEvent) -> bool:
    values = {"id": event.session_id, "room": event.room, "consultant": event.consultant,
              "source": event.source, "started_at": event.at}
    conn.execute(insert(Session).values(values).on_conflict_do_nothing(index_elements=["id"]))
    return True


def _participant_joined(conn: Connection, event: RoomEvent) -> bool:
    if not _session_known(conn, event):
        return False
    values = {"id": event.participant_id, "session_id": event.session_id, "role": event.role,
              "display_name": event.display_name, "joined_at": event.at}
    # A participant who rejoins keeps their row and first join and is present again; a join
    # delivered twice (from before the leave) changes nothing.
    statement = insert(Participant).values(values)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={"left_at": None},
        where=(Participant.left_at < statement.excluded.joined_at)
        & (Participant.session_id == statement.excluded.session_id)))
    _known(conn, event)  # refuses a participant of another session
    if event.consent_at is not None:
        _consent(conn, event, event.consent_at, given=True, analysis="face")
    if event.voice_consent_at is not None:
        _consent(conn, event, event.voice_consent_at, given=True, analysis="voice")
    return True


def _consent_given(conn: Connection, event: RoomEvent) -> bool:
    return _known(conn, event) and _consent(conn, event, event.at, True, event.analysis or "face")


def _consent_withdrawn(conn: Connection, event: RoomEvent) -> bool:
    return _known(conn, event) and _consent(conn, event, event.at, False,
                                            event.analysis or "face")


def _consent(conn: Connection, event: RoomEvent, at: datetime, given: bool,
             analysis: str) -> bool:
    conn.execute(insert(ConsentChange).values(participant_id=event.participant_id, at=at,
                                              given=given, analysis=analysis)
                 .on_conflict_do_nothing())
    # The latest of each, whatever order the changes arrive in (contracts.consent).
    column = getattr(Participant, COLUMNS[analysis][0 if given else 1])
    conn.execute(update(Participant).where(Participant.id == event.participant_id)
                 .values({column: func.greatest(column, at)}))
    return True


def _speech(conn: Connection, event: RoomEvent) -> bool:
    """Store a speech segment, or the further end of one stored already, by the consent rule
    of frames (contracts.consent) applied to voice consent and the segment's start."""
    if not _known(conn, event):
        return False
    given, withdrawn = conn.execute(
        select(Participant.voice_consent_at, Participant.voice_consent_withdrawn_at)
        .where(Participant.id == event.participant_id)).one()
    consent = frame_consent(given, withdrawn, event.at)
    if consent != "analyse":
        return consent == "drop"  # a segment begun before consent waits for it to arrive
    statement = insert(SpeechSegment).values(
        session_id=event.session_id, participant_id=event.participant_id,
        capture_id=event.capture_id, seq=event.seq, started_at=event.at, ended_at=event.until)
    conn.execute(statement.on_conflict_do_update(
        constraint="uq_speech_segments_seq",
        set_={"ended_at": func.greatest(SpeechSegment.ended_at, statement.excluded.ended_at)}))
    return True


def _participant_left(conn: Connection, event: RoomEvent) -> bool:
    if not _known(conn, event):
        return False
    conn.execute(update(Participant).where(Participant.id == event.participant_id)
                 .values(left_at=event.at))
    return True


def _session_alive(conn: Connection, event: RoomEvent) -> bool:
    # Nothing to write here: every applied room event marks its session as seen (``seen``).
    return _session_known(conn, event)


def _session_ended(conn: Connection, event: RoomEvent) -> bool:
    result = conn.execute(update(Session).where(Session.id == event.session_id)
                          .values(ended_at=event.at, end_reason=event.reason or "ended"))
    return result.rowcount > 0


def _session_known(conn: Connection, event: RoomEvent) -> bool:
    return conn.scalar(select(Session.id).where(Session.id == event.session_id)) is not None


def _known(conn: Connection, event: RoomEvent) -> bool:
    """Is the event's participant recorded? :class:`EntryRefused` if in another session."""
    recorded = conn.scalar(select(Participant.session_id)
                           .where(Participant.id == event.participant_id))
    if recorded is not None and recorded != event.session_id:
        raise EntryRefused(f"participant {event.participant_id} belongs to session {recorded}, "
                           f"not {event.session_id}")
    return recorded is not None


_ROOM_EVENT_WRITERS = {
    "session_started": _session_started,
    "participant_joined": _participant_joined,
    "consent_given": _consent_given,
    "consent_withdrawn": _consent_withdrawn,
    "participant_left": _participant_left,
    "session_alive": _session_alive,
    "session_ended": _session_ended,
    "speech": _speech,
}
