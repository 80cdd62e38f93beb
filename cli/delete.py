"""``econsult delete``: erase a session, or one participant, with everything analysed of them.

The foreign keys cascade: deleting a session deletes its participants, consent changes,
samples, emotion events and speech segments; deleting a participant deletes theirs. The erased
id is kept (only the id) in ``erasures``, so that entries still naming it, late or announced
again after a Redis restart, are dropped by the workers instead of being stored anew. Whatever
Redis still holds of it (frames not yet analysed, room events not yet read, dead letters) is
deleted too.
"""

from __future__ import annotations

import argparse
import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from cli import CommandError
from contracts.database import engine_for
from contracts.redis_connection import connect
from contracts.schema import Erasure, Participant, Session, SessionSummaryRow
from contracts.settings import Settings
from contracts.stream import StreamKeys, erase_from_streams


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("delete", help="erase a session or a participant's data")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--session", help="session id: everything of the session")
    target.add_argument("--participant", help="participant id: everything of that person")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    table, raw = (Session, args.session) if args.session else (Participant, args.participant)
    try:
        key = uuid.UUID(raw or "")
    except ValueError:
        raise CommandError(f"{raw!r} is not a session or participant id (a UUID)") from None
    engine = engine_for(settings.database_url)
    try:
        with engine.begin() as conn:
            if table is Participant:
                # Their session's summary counted them: it is written again without them.
                conn.execute(delete(SessionSummaryRow).where(
                    SessionSummaryRow.session_id == select(Participant.session_id)
                    .where(Participant.id == key).scalar_subquery()))
            deleted = conn.execute(delete(table).where(table.id == key)).rowcount
            if deleted:
                conn.execute(insert(Erasure).values(id=key).on_conflict_do_nothing())
    finally:
        engine.dispose()
    what = table.__tablename__[:-1]
    if not deleted:
        raise CommandError(f"there is no {what} {key}")
    client = connect(settings.redis_url)
    try:
        entries = erase_from_streams(client, StreamKeys.for_prefix(settings.redis_prefix), key)
    finally:
        client.close()
    print(f"deleted {what} {key} and everything analysed of it "
          f"({entries} entries not yet processed deleted from Redis)")
    return 0
