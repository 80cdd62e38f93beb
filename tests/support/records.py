"""What tests read back of a session (people by room and name, their frames, ingest's count),
and frames they store directly, as a worker would."""

from __future__ import annotations

import re
import ssl
import urllib.request
import uuid
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from contracts.schema import EmotionEvent, Participant, Sample, Session
from tests.support.processes import wait_for


def participant_named(engine: Engine, room: str, name: str, timeout_s: float = 60
                      ) -> Participant:
    """The participant of that name in the room's session, once their join is stored."""
    def find() -> Participant | None:
        with engine.connect() as conn:
            return conn.execute(select(Participant).join(Session).where(
                Session.room == room, Participant.display_name == name)).one_or_none()
    wait_for(lambda: find() is not None, timeout_s, f"{name}'s join to be stored")
    return find()


def session_in(engine: Engine, room: str) -> Session:
    with engine.connect() as conn:
        return conn.execute(select(Session).where(Session.room == room)).one()


def samples_of(engine: Engine, participant_id: uuid.UUID) -> list[Sample]:
    """The participant's stored frames, by capture and number."""
    with engine.connect() as conn:
        return list(conn.execute(select(Sample).where(Sample.participant_id == participant_id)
                                 .order_by(Sample.capture_id, Sample.seq)))


def samples_since(engine: Engine, participant_id: uuid.UUID, moment: datetime) -> int:
    """How many of the participant's stored frames were captured after ``moment``."""
    return sum(sample.captured_at > moment for sample in samples_of(engine, participant_id))


def published_frames(ingest_url: str) -> float:
    """How many frames the ingest server has published, by its /metrics."""
    return ingest_count(ingest_url, "frames_published")


def ingest_count(ingest_url: str, name: str, cafile: str | None = None) -> float:
    """An ingest server's counter ``econsult_ingest_<name>_total``, by its /metrics (over HTTPS,
    its certificate checked against ``cafile``)."""
    context = ssl.create_default_context(cafile=cafile) if ingest_url.startswith("https") else None
    with urllib.request.urlopen(f"{ingest_url}/metrics", timeout=5, context=context) as response:
        text = response.read().decode()
    return float(re.search(rf"^econsult_ingest_{name}_total (\S+)$", text, re.M).group(1))


def insert_frame(conn: Connection, session_id: uuid.UUID, participant_id: uuid.UUID, seq: int,
                 captured_at: datetime, face: dict[str, float]) -> None:
    """A stored frame with the participant's face read as ``face`` (probabilities by emotion),
    as a worker writes it; the participant's id stands for their capture."""
    frame = dict(session_id=session_id, participant_id=participant_id,
                 capture_id=participant_id, seq=seq, captured_at=captured_at)
    conn.execute(insert(Sample).values(**frame, face_found=True, others_in_view=0,
                                       model_version="test"))
    conn.execute(insert(EmotionEvent).values(**frame, box_x=0, box_y=0, box_w=10, box_h=10,
                                             dominant=max(face, key=face.get),
                                             model_version="test", **face))
