"""The stream contract between producers (ingest, ``econsult analyze``) and the inference workers.

Two Redis streams, read by one consumer group:

- ``<prefix>:room-events``: a session started, a participant joined (with their consent to
  each kind of analysis), changed a consent, left, spoke (a speech segment: from when to when,
  growing while they go on speaking; never a sound), the session is still alive, the session
  ended. Small, and processed before frames.
- ``<prefix>:frames``: one sampled video frame of one participant as JPEG, with its capture time.
  A frame is identified by its *capture* (one analysis stream of one participant, from one
  device, from the moment it starts until it stops: a reload or a re-consent starts a new one)
  and its sequence number within that capture, so a redelivered entry is recognised and a new
  frame never is. Approximately capped at ``stream_maxlen`` entries.

Workers delete an entry once what it carries is committed to PostgreSQL: no frame stays in
Redis after its analysis. Entries that break the contract go to ``<prefix>:dead-letter`` with
the reason (never with the image). Every entry carries the contract version ``v``; a decoder
refuses versions it does not know, and checks every bound of contracts/stream_fields.py, so
that nothing a worker cannot store gets past decoding.

This module names the streams and holds what concerns them whole (the workers' group and
backlog, dead letters, erasure); each kind of entry has its own: contracts/frames.py,
contracts/room_events.py, and contracts/live_updates.py for the live updates workers publish
to the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import redis

from contracts.stream_fields import Fields

WORKER_GROUP = "workers"
DEAD_FIELD_BYTES = 200  # of each field a dead letter keeps
ERASE_SCAN = 500  # entries read at a time when erasing someone from the streams
# A live worker refreshes its heartbeat key more often than this; producers check for one.
HEARTBEAT_TTL_S = 10


@dataclass(frozen=True)
class StreamKeys:
    frames: str
    room_events: str
    dead_letter: str
    heartbeat_prefix: str
    live_prefix: str
    # Which ingest holds a live room, and which ingests are up (ingest/placement.py).
    placement_prefix: str
    ingest_prefix: str

    @classmethod
    def for_prefix(cls, prefix: str) -> StreamKeys:
        return cls(f"{prefix}:frames", f"{prefix}:room-events", f"{prefix}:dead-letter",
                   f"{prefix}:worker:", f"{prefix}:live:", f"{prefix}:placement:",
                   f"{prefix}:ingest:")

    def heartbeat(self, worker: str) -> str:
        return f"{self.heartbeat_prefix}{worker}"

    def placement(self, room: str) -> str:
        return f"{self.placement_prefix}{room}"

    def ingest(self, address: str) -> str:
        return f"{self.ingest_prefix}{address}"

    def live(self, session_id: UUID) -> str:
        """Pub/sub channel of a session's live updates, one message per batch a worker stored
        (:class:`LiveUpdates`)."""
        return f"{self.live_prefix}{session_id}"


def live_workers(client: redis.Redis, keys: StreamKeys) -> list[str]:
    """Names of the workers whose heartbeat has not expired."""
    return sorted(key.decode().removeprefix(keys.heartbeat_prefix)
                  for key in client.scan_iter(match=f"{keys.heartbeat_prefix}*", count=1000))


def dead_letter(client: redis.Redis, keys: StreamKeys, source: str, entry_id: bytes,
                fields: Fields, reason: str, maxlen: int) -> None:
    """Keep an entry nobody can process, with why, so it never blocks the group.

    The image itself is not kept: no video frame is stored anywhere, not even a broken one.
    Other fields are cut to ``DEAD_FIELD_BYTES``: enough to trace the entry, and a megabyte of
    display name does not live on in the dead-letter stream.
    """
    record = {k: v[:DEAD_FIELD_BYTES] for k, v in fields.items() if k != b"jpeg"}
    if b"jpeg" in fields:
        record[b"jpeg_bytes"] = str(len(fields[b"jpeg"]))
    record |= {b"dead_reason": reason, b"dead_source": source, b"dead_id": entry_id}
    client.xadd(keys.dead_letter, record, maxlen=maxlen, approximate=True)


def erase_from_streams(client: redis.Redis, keys: StreamKeys, erased: UUID) -> int:
    """Delete every entry that names the session or participant ``erased`` from every stream
    (unanalysed frames, unread room events, dead letters); how many were deleted."""
    wanted = str(erased).encode()
    deleted = 0
    for stream in (keys.frames, keys.room_events, keys.dead_letter):
        after = "-"
        while entries := client.xrange(stream, after, "+", count=ERASE_SCAN):
            doomed = [entry_id for entry_id, fields in entries
                      if wanted in (fields.get(b"session"), fields.get(b"participant"))]
            if doomed:
                deleted += client.xdel(stream, *doomed)
            after = b"(" + entries[-1][0]
    return deleted


@dataclass(frozen=True)
class Backlog:
    """What the workers have yet to finish of a stream: entries not read, read but not acked."""

    unread: int
    pending: int

    @classmethod
    def of(cls, stream_info: dict, groups: list[dict]) -> Backlog:
        """From the replies to XINFO STREAM and XINFO GROUPS (either Redis client's)."""
        group = next((g for g in groups if g["name"] in (WORKER_GROUP, WORKER_GROUP.encode())),
                     None)
        if group is None:
            return cls(int(stream_info["length"]), 0)
        read_all = _entry_id(group["last-delivered-id"]) >= _entry_id(
            stream_info["last-generated-id"])
        # Redis cannot always count the unread (``lag`` is then nil): at least one is.
        unread = 0 if read_all else int(group.get("lag") or 1)
        return cls(unread, int(group["pending"]))


def _entry_id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    milliseconds, sequence = text.split("-")
    return int(milliseconds), int(sequence)


def ensure_group(client: redis.Redis, stream: str) -> None:
    """Create the workers' consumer group (and the stream) if they do not exist yet."""
    try:
        client.xgroup_create(stream, WORKER_GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
