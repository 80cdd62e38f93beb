"""The summary ``econsult analyze`` prints when a session is stored: expressions, and speech."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, func, select

from contracts.labels import EMOTIONS
from contracts.schema import EmotionEvent, Sample, SpeechSegment

BAR_WIDTH = 30


class _Request(Protocol):
    room: str
    participant: str


@dataclass(frozen=True)
class SessionSummary:
    frames: int
    frames_with_face: int
    faces: int
    dominant_share: dict[str, float]
    mean_probability: dict[str, float]
    model_version: str | None
    speech_segments: int = 0
    talk_s: float = 0.0


def summarise(engine: Engine, participant_id: uuid.UUID) -> SessionSummary:
    mine = EmotionEvent.participant_id == participant_id
    with engine.connect() as conn:
        frames, with_face, version = conn.execute(
            select(func.count(), func.count().filter(Sample.face_found),
                   func.max(Sample.model_version))
            .where(Sample.participant_id == participant_id)).one()
        means = conn.execute(select(func.count(), *(func.avg(getattr(EmotionEvent, e))
                                                    for e in EMOTIONS)).where(mine)).one()
        counts = dict(conn.execute(select(EmotionEvent.dominant, func.count())
                                   .where(mine).group_by(EmotionEvent.dominant)).all())
        segments, talk = conn.execute(select(
            func.count(), func.sum(func.extract("epoch", SpeechSegment.ended_at
                                                - SpeechSegment.started_at)))
            .where(SpeechSegment.participant_id == participant_id)).one()
    faces = means[0]
    return SessionSummary(
        frames=frames, frames_with_face=with_face, faces=faces,
        dominant_share={e: counts.get(e, 0) / faces if faces else 0.0 for e in EMOTIONS},
        mean_probability={e: float(m or 0.0) for e, m in zip(EMOTIONS, means[1:], strict=True)},
        model_version=version, speech_segments=segments, talk_s=float(talk or 0.0),
    )


def print_summary(engine: Engine, session_id: uuid.UUID, participant_id: uuid.UUID,
                  request: _Request, model_accuracy: float | None,
                  voice: str | None) -> SessionSummary:
    """``voice``: why the sound was not analysed, or None if it was."""
    summary = summarise(engine, participant_id)
    presence = summary.frames_with_face / summary.frames if summary.frames else 0.0
    print(f"\nSession {session_id} in room {request.room!r}, participant "
          f"{request.participant!r}: {summary.frames} frames analysed, a face in "
          f"{summary.frames_with_face} ({presence:.0%}).")
    if summary.faces:
        print(f"\n{'emotion':<10} {'dominant in':>12}   {'mean probability':>16}")
        for emotion in sorted(EMOTIONS, key=summary.dominant_share.get, reverse=True):
            share = summary.dominant_share[emotion]
            bar = "█" * round(share * BAR_WIDTH)
            print(f"{emotion:<10} {share:>11.0%}  {summary.mean_probability[emotion]:>6.2f}  {bar}")
    accuracy = f"{model_accuracy:.0%}" if model_accuracy is not None else "an unmeasured share"
    print(f"\nModel {summary.model_version} reads facial expressions, not feelings: it names the "
          f"expression most of ten annotators saw on {accuracy} of FER2013's test faces, and a "
          "face on a call is harder than those. Read the shares as trends over a session, not "
          "verdicts on a moment.")
    if voice is None:
        print(f"\nSpeech (voice activity: when the person spoke, never what they said): "
              f"{summary.talk_s:.0f} s in {summary.speech_segments} utterances. Everything "
              "heard in the recording's sound counts as theirs.")
    else:
        print(f"\nSpeech not analysed: {voice}.")
    return summary
