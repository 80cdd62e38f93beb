"""Live feedback for consultants: the workers' updates, from Redis to the room's WebSockets."""

from __future__ import annotations

import asyncio
import logging
from statistics import fmean
from typing import Any

import redis.asyncio as aredis

from contracts.live_updates import LiveUpdate, LiveUpdates
from contracts.outage import OUTAGES, first_line
from contracts.quality import positivity
from contracts.stream import StreamKeys
from contracts.stream_fields import StreamFormatError
from ingest.rooms import Member, Room, Rooms

log = logging.getLogger("econsult.ingest")
RELISTEN_S = 2.0


async def relay_live_updates(client: aredis.Redis, keys: StreamKeys, rooms: Rooms) -> None:
    """Runs for the life of the service: every update goes to its room's consultants, a
    worker's batch of them in one message. While Redis is out of reach it listens again every
    few seconds (updates sent meanwhile are lost: the next one shows the current state)."""
    while True:
        try:
            await _relay(client, keys, rooms)
        except OUTAGES as exc:
            log.warning("live feedback paused: Redis is unreachable (%s); listening again in "
                        "%.0f s", first_line(exc), RELISTEN_S)
            await asyncio.sleep(RELISTEN_S)


async def _relay(client: aredis.Redis, keys: StreamKeys, rooms: Rooms) -> None:
    pubsub = client.pubsub()
    await pubsub.psubscribe(f"{keys.live_prefix}*")
    try:
        async for message in pubsub.listen():
            if message["type"] != "pmessage":
                continue
            try:
                batch = LiveUpdates.decode(message["data"])
            except StreamFormatError as exc:
                log.warning("ignored live updates: %s", exc)
                continue
            room = rooms.by_session(batch.session_id)
            if room is None:
                continue
            readings = [feedback(room, member, update) for update in batch.updates
                        if (member := room.members.get(update.participant_id)) is not None]
            if not readings:
                continue
            # One message a batch: a class's consultant is sent tens of readings a second.
            for consultant in room.consultants():
                await consultant.send({"type": "live", "readings": readings})
    finally:
        await pubsub.aclose()


def feedback(room: Room, member: Member, update: LiveUpdate) -> dict[str, Any]:
    """What the consultant's page shows for one update (one of the ``readings`` of a ``live``
    message): the member's live reading (their expressions smoothed over the last seconds, with
    its doubt; contracts.smoothing), the same compared with their usual face
    (contracts.baseline), how long their faces have read negative while the alert of
    contracts.alert holds, and the session's quality score."""
    reading = personal = None
    at = update.captured_at.timestamp()
    if update.probabilities:
        reading = member.reading.add(update.probabilities, at)
        personal = member.personal.add(update.probabilities, at)
        member.score.add(positivity(update.probabilities), at)
        member.negativity.add(update.probabilities, at)
    # A frame from before a withdrawal may still be stored: its alert is not shown.
    negative_for_s = member.negativity.lasting(at) if "face" in member.consent else None
    scores = [m.score.value for m in room.members.values()
              if m.role != "consultant" and m.score.value is not None]
    return {
        "participant": str(member.id),
        "captured_at_ms": round(at * 1000),
        "face_found": update.face_found, "others_in_view": update.others_in_view,
        "facing_screen": update.facing_screen,
        "probabilities": reading.probabilities if reading else None,
        "leading": reading.leading if reading and not reading.unclear else None,
        "shown": reading.words() if reading else None,
        "personal": personal.words() if personal else None,
        "negative_for_s": None if negative_for_s is None else round(negative_for_s, 1),
        "quality": member.score.value, "session_quality": fmean(scores) if scores else None,
    }
