"""Live updates: what a worker stored of a session's batch, published for the room to show
its consultant (Redis pub/sub, not a stream: nothing of it is needed later)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import redis

from contracts.stream import StreamKeys
from contracts.stream_fields import VERSION, StreamFormatError, to_ms


@dataclass(frozen=True)
class LiveUpdate:
    """The latest stored analysis of one participant, as the room shows it to the consultant."""

    participant_id: UUID
    captured_at: datetime
    face_found: bool
    others_in_view: int
    probabilities: dict[str, float] | None  # of the participant's own face; None without it
    facing_screen: bool | None = None  # None where no face was found or its pose not known

    def body(self) -> dict[str, Any]:
        return {"participant": str(self.participant_id),
                "captured_at_ms": to_ms(self.captured_at), "face_found": self.face_found,
                "others_in_view": self.others_in_view, "probabilities": self.probabilities,
                "facing_screen": self.facing_screen}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> LiveUpdate:
        return cls(UUID(body["participant"]),
                   datetime.fromtimestamp(body["captured_at_ms"] / 1000, tz=UTC),
                   bool(body["face_found"]), int(body["others_in_view"]),
                   body["probabilities"], body.get("facing_screen"))


@dataclass(frozen=True)
class LiveUpdates:
    """A session's updates from one batch a worker stored, in capture order: one message, so
    that ingest handles a batch at a time rather than a frame at a time."""

    session_id: UUID
    updates: list[LiveUpdate]

    def encode(self) -> str:
        return json.dumps({"v": VERSION, "session": str(self.session_id),
                           "updates": [update.body() for update in self.updates]})

    @classmethod
    def decode(cls, message: str | bytes) -> LiveUpdates:
        try:
            body = json.loads(message)
            if body.get("v") != VERSION:
                raise StreamFormatError(f"contract version {body.get('v')!r} is not {VERSION!r}")
            return cls(UUID(body["session"]), [LiveUpdate.from_body(update)
                                               for update in body["updates"]])
        except (ValueError, KeyError, TypeError, OverflowError, AttributeError) as exc:
            raise StreamFormatError(f"malformed live updates: {exc!r}") from None


def publish_live_updates(client: redis.Redis, keys: StreamKeys, updates: LiveUpdates) -> None:
    """Fire and forget: a room that is not listening misses nothing it needs later."""
    client.publish(keys.live(updates.session_id), updates.encode())
