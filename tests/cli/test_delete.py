"""`econsult delete` erases a person's or a session's data and nothing else."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from contracts.labels import EMOTIONS
from contracts.room_events import RoomEvent, publish_room_event
from contracts.schema import EmotionEvent, Participant, Sample, Session, SpeechSegment
from contracts.stream import StreamKeys
from tests.support.streams import join, publish_images, wait_until_consumed
from training import data
from training.fer_clips import framed_face


def _session_with(engine, names: list[str]) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    session_id, now = uuid.uuid4(), datetime.now(UTC)
    people = {name: uuid.uuid4() for name in names}
    with engine.begin() as conn:
        conn.execute(insert(Session).values(id=session_id, room="erase", source="room",
                                            started_at=now))
        for name, pid in people.items():
            conn.execute(insert(Participant).values(id=pid, session_id=session_id,
                                                    role="client", display_name=name,
                                                    joined_at=now, consent_at=now,
                                                    voice_consent_at=now))
            conn.execute(insert(Sample).values(session_id=session_id, participant_id=pid,
                                               capture_id=pid, seq=0, captured_at=now,
                                               face_found=True, others_in_view=0,
                                               model_version="test"))
            conn.execute(insert(EmotionEvent).values(
                session_id=session_id, participant_id=pid, capture_id=pid, seq=0,
                captured_at=now, box_x=0, box_y=0, box_w=1, box_h=1, dominant="happy",
                model_version="test", **dict.fromkeys(EMOTIONS, 1 / 7)))
            conn.execute(insert(SpeechSegment).values(
                session_id=session_id, participant_id=pid, capture_id=pid, seq=0,
                started_at=now, ended_at=now))
    return session_id, people


def _rows(engine, table, **where) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(getattr(table, column) == value)
        return conn.scalar(query)


def _delete(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", "delete", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_deleting_a_participant_erases_their_analysis_only(engine, env):
    _, people = _session_with(engine, ["Ann", "Ben"])
    assert _delete(env, "--participant", str(people["Ann"])).returncode == 0
    assert _rows(engine, EmotionEvent, participant_id=people["Ann"]) == 0
    assert _rows(engine, Sample, participant_id=people["Ann"]) == 0
    assert _rows(engine, SpeechSegment, participant_id=people["Ann"]) == 0
    assert _rows(engine, EmotionEvent, participant_id=people["Ben"]) == 1
    assert _rows(engine, SpeechSegment, participant_id=people["Ben"]) == 1


def test_deleting_a_session_erases_everyone_in_it(engine, env):
    session_id, _ = _session_with(engine, ["Cat", "Dov"])
    assert _delete(env, "--session", str(session_id)).returncode == 0
    for table in (Participant, Sample, EmotionEvent, SpeechSegment):
        assert _rows(engine, table, session_id=session_id) == 0


def test_an_unknown_or_malformed_id_is_a_clear_error(env):
    missing = _delete(env, "--session", str(uuid.uuid4()))
    assert missing.returncode == 2 and "there is no session" in missing.stderr
    malformed = _delete(env, "--participant", "alice")
    assert malformed.returncode == 2 and "is not a session or participant id" in malformed.stderr


def test_deleting_a_participant_deletes_their_unanalysed_frames_and_keeps_them_deleted(
        settings, engine, redis_client, env, worker_factory):
    """Frames still in Redis go with the participant, and whatever still names them later (a
    replay after a Redis restart, a late frame) is dropped, never stored again."""
    own = dataclasses.replace(settings, redis_prefix=f"{settings.redis_prefix}-erase")
    keys = StreamKeys.for_prefix(own.redis_prefix)
    worker = worker_factory(redis_prefix=own.redis_prefix)
    joined = join(redis_client, own)
    face = framed_face(data.load(data.PUBLIC_TEST).images[0])
    [first] = publish_images(redis_client, own, joined, [face])
    wait_until_consumed(redis_client, own, first)
    worker.stop()  # nobody analyses what comes next before the deletion
    publish_images(redis_client, own, joined, [face] * 5, first_seq=1)

    result = _delete({**env, **own.to_env()}, "--participant", str(joined.participant_id))
    assert result.returncode == 0, result.stderr
    assert "5 entries not yet processed deleted from Redis" in result.stdout
    assert redis_client.xlen(keys.frames) == 0

    worker_factory(redis_prefix=own.redis_prefix)
    again = join(redis_client, own)  # the same session announced again, as after a restart
    publish_room_event(redis_client, keys, RoomEvent(
        "participant_joined", joined.session_id, joined.started,
        participant_id=joined.participant_id, role="client", display_name="Test Client",
        consent_at=joined.started))
    [last] = publish_images(redis_client, own, joined, [face], first_seq=6)
    publish_images(redis_client, own, again, [face])
    wait_until_consumed(redis_client, own, last)
    assert _rows(engine, Participant, id=joined.participant_id) == 0
    assert _rows(engine, Sample, participant_id=joined.participant_id) == 0
