"""``econsult delete``: erase a session, or one participant, with everything analysed of them.

The foreign keys cascade: deleting a session deletes its participants, samples and events;
deleting a participant deletes their samples and events. Nothing else holds personal data
(no frame is ever stored, and the streams keep entries only until workers store them).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete

from cli import CommandError
from contracts.database import engine_for
from contracts.schema import Participant, Session
from contracts.settings import Settings


def delete_data(settings: Settings, session: str | None, participant: str | None) -> int:
    table, raw = (Session, session) if session else (Participant, participant)
    try:
        key = uuid.UUID(raw or "")
    except ValueError:
        raise CommandError(f"{raw!r} is not a session or participant id (a UUID)") from None
    engine = engine_for(settings.database_url)
    try:
        with engine.begin() as conn:
            deleted = conn.execute(delete(table).where(table.id == key)).rowcount
    finally:
        engine.dispose()
    if not deleted:
        raise CommandError(f"there is no {table.__tablename__[:-1]} {key}")
    print(f"deleted {table.__tablename__[:-1]} {key} and everything analysed of it")
    return 0
