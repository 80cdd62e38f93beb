"""The worker's side of the Redis streams: read in batches, claim the dead's entries, ack.

At-least-once: an entry stays pending until :meth:`StreamConsumer.ack`, which the worker calls
only after its PostgreSQL commit. Entries pending longer than ``claim_idle_ms`` on a consumer
that stopped are taken over with XAUTOCLAIM; one delivered ``max_deliveries`` times is
presumed to crash workers and goes to the dead-letter stream instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from contracts.settings import Settings
from contracts.stream import (
    HEARTBEAT_TTL_S,
    WORKER_GROUP,
    Fields,
    StreamKeys,
    dead_letter,
    ensure_group,
)

_PENDING_SCAN = 10_000


@dataclass(frozen=True)
class Entry:
    stream: str
    id: bytes
    fields: Fields


@dataclass
class Batch:
    room_events: list[Entry]
    frames: list[Entry]


class StreamConsumer:
    def __init__(self, client: redis.Redis, settings: Settings, name: str) -> None:
        self.client = client
        self.keys = StreamKeys.for_prefix(settings.redis_prefix)
        self.name = name
        self._settings = settings
        self._streams = (self.keys.room_events, self.keys.frames)
        self._last_claim = 0.0
        for stream in self._streams:
            ensure_group(client, stream)

    def next_batch(self, block_ms: int) -> Batch:
        """Entries abandoned by dead workers first, else new ones (waiting up to ``block_ms``)."""
        self.client.set(self.keys.heartbeat(self.name), "alive", ex=HEARTBEAT_TTL_S)
        batch = Batch([], [])
        for entry in self._claim_abandoned():
            self._sorted_into(batch, entry)
        if batch.room_events or batch.frames:
            return batch
        replies = self.client.xreadgroup(
            WORKER_GROUP, self.name, dict.fromkeys(self._streams, ">"),
            count=self._settings.worker_batch, block=block_ms,
        )
        for stream, entries in replies or []:
            for entry_id, fields in entries:
                self._sorted_into(batch, Entry(_text(stream), entry_id, fields))
        return batch

    def ack(self, entries: Iterable[Entry]) -> None:
        by_stream: dict[str, list[bytes]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.id)
        for stream, ids in by_stream.items():
            self.client.xack(stream, WORKER_GROUP, *ids)

    def reject(self, entry: Entry, reason: str) -> None:
        """Move an entry nobody can process to the dead-letter stream and ack it."""
        dead_letter(self.client, self.keys, entry.stream, entry.id, entry.fields, reason,
                    self._settings.stream_maxlen)
        self.ack([entry])

    def leave(self) -> None:
        """Stop the heartbeat; leave the group unless entries are still pending on us."""
        self.client.delete(self.keys.heartbeat(self.name))
        for stream in self._streams:
            try:
                if not self.client.xpending_range(stream, WORKER_GROUP, "-", "+", 1, self.name):
                    self.client.xgroup_delconsumer(stream, WORKER_GROUP, self.name)
            except redis.ResponseError:
                pass  # the stream or group was deleted meanwhile: nothing left to leave

    def _claim_abandoned(self) -> list[Entry]:
        now = time.monotonic()
        # Scanning the pending list costs a round trip per stream: a few times per idle period.
        if now - self._last_claim < self._settings.claim_idle_ms / 4000:
            return []
        self._last_claim = now
        claimed = []
        for stream in self._streams:
            _, entries, _ = self.client.xautoclaim(
                stream, WORKER_GROUP, self.name, self._settings.claim_idle_ms,
                count=self._settings.worker_batch,
            )
            claimed.extend(self._drop_poison(stream, entries))
        return claimed

    def _drop_poison(self, stream: str, entries: list) -> list[Entry]:
        if not entries:
            return []
        # Other entries of ours may lie between these ids: ask for enough to cover them.
        details = self.client.xpending_range(stream, WORKER_GROUP, entries[0][0], entries[-1][0],
                                             _PENDING_SCAN, self.name)
        deliveries = {d["message_id"]: d["times_delivered"] for d in details}
        kept = []
        for entry_id, fields in entries:
            entry = Entry(stream, entry_id, fields)
            if deliveries.get(entry_id, 0) > self._settings.max_deliveries:
                self.reject(entry, f"delivered {deliveries[entry_id]} times without success")
            else:
                kept.append(entry)
        return kept

    def _sorted_into(self, batch: Batch, entry: Entry) -> None:
        target = batch.room_events if entry.stream == self.keys.room_events else batch.frames
        target.append(entry)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
