"""Faces as the model might read them, and a participant's stored run of them, for tests of the
readings people are shown (contracts.smoothing, contracts.baseline)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from contracts.labels import EMOTIONS
from contracts.schema import EmotionEvent, Participant, Session
from contracts.smoothing import leading

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def face(leader: str, strength: float = 0.6, second: str | None = None,
         second_strength: float = 0.0) -> dict[str, float]:
    """Probabilities with ``leader`` at ``strength`` (and ``second`` at ``second_strength``),
    the rest shared equally."""
    rest = (1 - strength - second_strength) / (len(EMOTIONS) - 1 - (second is not None))
    probabilities = {name: rest for name in EMOTIONS} | {leader: strength}
    return probabilities | ({second: second_strength} if second else {})


def store_faces(engine: Engine, faces: list[dict[str, float]], times: list[datetime]
                ) -> uuid.UUID:
    """A new session with one client whose faces read ``faces`` at ``times``; its id."""
    session_id, person = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room="readings", source="room",
                                            started_at=START))
        conn.execute(insert(Participant).values(id=person, session_id=session_id, role="client",
                                                display_name="Ann", joined_at=START,
                                                consent_at=START))
        conn.execute(insert(EmotionEvent), [
            dict(session_id=session_id, participant_id=person, capture_id=person, seq=seq,
                 captured_at=at, box_x=0, box_y=0, box_w=10, box_h=10, model_version="test",
                 dominant=leading(probabilities), **probabilities)
            for seq, (at, probabilities) in enumerate(zip(times, faces, strict=True))])
    return session_id
