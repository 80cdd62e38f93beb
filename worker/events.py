"""What a worker writes to PostgreSQL: session lifecycle, analysed samples and emotion events.

Every write is idempotent (upserts, ``ON CONFLICT DO NOTHING`` on the natural keys), because an
entry may be delivered again after a worker dies between its commit and its XACK.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert

from contracts.labels import EMOTIONS
from contracts.schema import EmotionEvent, Participant, Sample, Session
from contracts.stream import RoomEvent


@dataclass(frozen=True)
class AnalysedFace:
    x: int
    y: int
    w: int
    h: int
    probabilities: Sequence[float]  # in EMOTIONS order


@dataclass(frozen=True)
class AnalysedFrame:
    session_id: UUID
    participant_id: UUID
    seq: int
    captured_at: datetime
    faces: Sequence[AnalysedFace]


def apply_room_event(conn: Connection, event: RoomEvent) -> bool:
    """Record the event; False while the session or participant it names is not recorded yet.

    Workers take room events in parallel, so a join can come before its session's start.
    """
    return _ROOM_EVENT_WRITERS[event.kind](conn, event)


def consenting_participants(conn: Connection, ids: Iterable[UUID]) -> dict[UUID, bool]:
    """For each participant among ``ids`` whose join is recorded: is consent given now?"""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(Participant.id, Participant.consent_at,
                               Participant.consent_withdrawn_at)
                        .where(Participant.id.in_(wanted)))
    return {row.id: row.consent_at is not None and (row.consent_withdrawn_at is None
                                                    or row.consent_withdrawn_at < row.consent_at)
            for row in rows}


def store_frames(conn: Connection, frames: Sequence[AnalysedFrame], model_version: str) -> None:
    """One multi-row insert for the samples and one for the faces; duplicates are skipped."""
    if not frames:
        return
    samples = [
        {"session_id": f.session_id, "participant_id": f.participant_id, "seq": f.seq,
         "captured_at": f.captured_at, "face_count": len(f.faces), "model_version": model_version}
        for f in frames
    ]
    conn.execute(insert(Sample).values(samples).on_conflict_do_nothing(
        constraint="uq_samples_participant_seq"))
    events = [_event_row(frame, index, face, model_version)
              for frame in frames for index, face in enumerate(frame.faces)]
    if events:
        conn.execute(insert(EmotionEvent).values(events).on_conflict_do_nothing(
            constraint="uq_emotion_events_participant_seq_face"))


def _event_row(frame: AnalysedFrame, index: int, face: AnalysedFace, version: str) -> dict:
    probabilities = dict(zip(EMOTIONS, map(float, face.probabilities), strict=True))
    return {
        "session_id": frame.session_id, "participant_id": frame.participant_id,
        "seq": frame.seq, "captured_at": frame.captured_at, "face_index": index,
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
    if conn.scalar(select(Session.id).where(Session.id == event.session_id)) is None:
        return False
    values = {"id": event.participant_id, "session_id": event.session_id, "role": event.role,
              "display_name": event.display_name, "joined_at": event.at,
              "consent_at": event.consent_at}
    # A participant who rejoins keeps their row and first join and is present again; a join
    # delivered twice (from before the leave) changes nothing.
    statement = insert(Participant).values(values)
    conn.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={"left_at": None},
        where=Participant.left_at < statement.excluded.joined_at))
    return True


def _consent_given(conn: Connection, event: RoomEvent) -> bool:
    return _update_participant(conn, event, consent_at=event.at)


def _consent_withdrawn(conn: Connection, event: RoomEvent) -> bool:
    return _update_participant(conn, event, consent_withdrawn_at=event.at)


def _update_participant(conn: Connection, event: RoomEvent, **values: object) -> bool:
    result = conn.execute(update(Participant).where(Participant.id == event.participant_id)
                          .values(**values))
    return result.rowcount > 0


def _participant_left(conn: Connection, event: RoomEvent) -> bool:
    return _update_participant(conn, event, left_at=event.at)


def _session_ended(conn: Connection, event: RoomEvent) -> bool:
    result = conn.execute(update(Session).where(Session.id == event.session_id)
                          .values(ended_at=event.at))
    return result.rowcount > 0


_ROOM_EVENT_WRITERS = {
    "session_started": _session_started,
    "participant_joined": _participant_joined,
    "consent_given": _consent_given,
    "consent_withdrawn": _consent_withdrawn,
    "participant_left": _participant_left,
    "session_ended": _session_ended,
}
