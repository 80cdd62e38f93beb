"""The worker's side of the Redis streams: read in batches, claim the dead's entries, ack.

A batch that is not full is let gather until its first entry is ``ECONSULT_WORKER_GATHER_MS``
old: a class's frames come one at a time, and each batch costs a few round trips to Redis and
PostgreSQL whatever its size.

At-least-once: an entry stays pending until :meth:`StreamConsumer.ack`, which the worker calls
only after its PostgreSQL commit, and which deletes it from the stream as well: no frame stays
in Redis once its analysis is stored. Entries pending longer than ``claim_idle_ms`` on a
consumer that stopped are taken over with XAUTOCLAIM, and a dead consumer left with nothing
pending is removed from the group; an entry delivered ``max_deliveries`` times is presumed to
crash workers and goes to the dead-letter stream instead. If Redis lost the group (a restart
without persistence), it is made again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from contracts.settings import Settings
from contracts.stream import (
    HEARTBEAT_TTL_S,
    WORKER_GROUP,
    Backlog,
    StreamKeys,
    dead_letter,
    ensure_group,
    live_workers,
)
from contracts.stream_fields import Fields

_PENDING_SCAN = 10_000
# How often, as a share of the claim idle time, a worker looks for abandoned entries.
CLAIM_CHECKS_PER_IDLE = 0.25
# Heartbeats per heartbeat's life: one missed beat, or a slow batch, does not make it expire.
BEATS_PER_TTL = 3
log = logging.getLogger("econsult.worker")


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
        self._last_beat = -float("inf")
        self._ensure_groups()

    @property
    def takeover_s(self) -> float:
        """The longest another worker takes to take over a dead one's pending entries."""
        return self._settings.claim_idle_ms * (1 + CLAIM_CHECKS_PER_IDLE) / 1000

    def next_batch(self, block_ms: int) -> Batch:
        """Entries abandoned by dead workers first, else new ones (waiting up to ``block_ms``)."""
        try:
            return self._next_batch(block_ms)
        except redis.ResponseError as exc:
            if not _group_gone(exc):
                raise
            log.warning("the consumer group is gone (Redis restarted without its data?); "
                        "making it again")
            self._ensure_groups()
            return Batch([], [])

    def _next_batch(self, block_ms: int) -> Batch:
        self._beat()
        batch = Batch([], [])
        for entry in self._claim_abandoned():
            self._sorted_into(batch, entry)
        if batch.room_events or batch.frames:
            return batch
        self._read(batch, block_ms)
        if 0 < (size := len(batch.room_events) + len(batch.frames)) < self._settings.worker_batch:
            # Let the batch gather, then take what came meanwhile without waiting for more.
            time.sleep(_gathering_s(batch, self._settings.worker_gather_ms))
            self._read(batch, None, self._settings.worker_batch - size)
        return batch

    def _beat(self) -> None:
        """Say this worker lives, a few times per heartbeat's life."""
        if time.monotonic() - self._last_beat >= HEARTBEAT_TTL_S / BEATS_PER_TTL:
            self.client.set(self.keys.heartbeat(self.name), "alive", ex=HEARTBEAT_TTL_S)
            self._last_beat = time.monotonic()

    def _read(self, batch: Batch, block_ms: int | None, count: int | None = None) -> None:
        replies = self.client.xreadgroup(
            WORKER_GROUP, self.name, dict.fromkeys(self._streams, ">"),
            count=count or self._settings.worker_batch, block=block_ms,
        )
        for stream, entries in replies or []:
            for entry_id, fields in entries:
                self._sorted_into(batch, Entry(_text(stream), entry_id, fields))

    def ack(self, entries: Iterable[Entry]) -> None:
        """Done with these entries: acknowledged and deleted, in one transaction."""
        by_stream = _by_stream(entries)
        if not by_stream:
            return
        with self.client.pipeline(transaction=True) as pipe:
            for stream, ids in by_stream.items():
                pipe.xack(stream, WORKER_GROUP, *ids)
                pipe.xdel(stream, *ids)
            pipe.execute()

    def caught_up(self, stream: str) -> bool:
        """Has the group been handed every entry of ``stream``?"""
        try:
            backlog = Backlog.of(self.client.xinfo_stream(stream),
                                 self.client.xinfo_groups(stream))
        except redis.ResponseError:
            return False
        return backlog.unread == 0

    def keep(self, entries: Iterable[Entry]) -> None:
        """Still working on these: reset their idle time (not their delivery count), so that no
        other worker takes them over while this one lives."""
        for stream, ids in _by_stream(entries).items():
            try:
                self.client.xclaim(stream, WORKER_GROUP, self.name, 0, ids, justid=True)
            except redis.ResponseError as exc:
                if not _group_gone(exc):
                    raise
                self._ensure_groups()  # Redis restarted: no other worker can take them either

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
        if now - self._last_claim < self._settings.claim_idle_ms * CLAIM_CHECKS_PER_IDLE / 1000:
            return []
        self._last_claim = now
        claimed = []
        for stream in self._streams:
            _, entries, _ = self.client.xautoclaim(
                stream, WORKER_GROUP, self.name, self._settings.claim_idle_ms,
                count=self._settings.worker_batch,
            )
            claimed.extend(self._drop_poison(stream, entries))
            self._forget_the_dead(stream)
        return claimed

    def _forget_the_dead(self, stream: str) -> None:
        """Remove consumers that hold nothing, are silent and have no heartbeat: dead workers,
        whose entries were taken over. (A live one that was only slow joins again on its
        next read, losing nothing: it held nothing.)"""
        alive = set(live_workers(self.client, self.keys))
        for consumer in self.client.xinfo_consumers(stream, WORKER_GROUP):
            name = _text(consumer["name"])
            if (name != self.name and name not in alive and consumer["pending"] == 0
                    and consumer["idle"] > self._settings.claim_idle_ms):
                self.client.xgroup_delconsumer(stream, WORKER_GROUP, name)
                log.info("removed the dead consumer %s from the group of %s", name, stream)

    def _ensure_groups(self) -> None:
        for stream in self._streams:
            ensure_group(self.client, stream)

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


def _gathering_s(batch: Batch, gather_ms: int) -> float:
    """How long until the batch's first entry is ``gather_ms`` old, by the time in its id (when
    Redis added it): at most ``gather_ms``, whatever the clocks say."""
    ids = [entry.id for entry in (*batch.room_events, *batch.frames)]
    added_ms = min(int(entry_id.split(b"-")[0]) for entry_id in ids)
    return min(max(added_ms + gather_ms - time.time() * 1000, 0), gather_ms) / 1000


def _group_gone(error: redis.ResponseError) -> bool:
    return "NOGROUP" in str(error)


def _by_stream(entries: Iterable[Entry]) -> dict[str, list[bytes]]:
    by_stream: dict[str, list[bytes]] = {}
    for entry in entries:
        by_stream.setdefault(entry.stream, []).append(entry.id)
    return by_stream


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

