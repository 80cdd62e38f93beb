"""Session summaries kept current: every list and trend over months reads one row per session
(``session_summaries``) instead of every stored frame, and a report whose frames have expired
reads its people's rows (``participant_summaries``).

A session's row is the ``session_summary`` view's row for it (one definition, the analysts'),
with its speech measures as the History page shows them; a participant's, the
``participant_summary`` view's, written with their session's. Every ``ECONSULT_SUMMARY_EVERY_S``
(30 s), a worker rewrites the rows of the sessions still running and of those something was
stored of since their row was written: an ended session's row is at most that far behind. Only
one worker refreshes at a time (an advisory lock); the others skip their turn.
"""

from __future__ import annotations

from sqlalchemy import Connection, TextClause, text

from contracts.consent import ever_given_sql
from contracts.schema import ParticipantSummaryRow, SessionSummaryRow
from worker.events import SEEN_EVERY_S

# Stale sessions rewritten at a turn, running ones and the latest first: after an upgrade, a
# year of sessions is summarised over a few turns, not in one long stop of storing frames.
BATCH = 200
_LOCK = 0x6563_7375_6D6D  # "ecsumm": the advisory lock of the refresh

# Sessions whose row is missing or may be behind: a session's last_seen_at trails the last frame
# stored of it by up to SEEN_EVERY_S, so a row written less than that after it may miss some.
_STALE = f"""
SELECT s.id FROM sessions s LEFT JOIN session_summaries m ON m.session_id = s.id
WHERE m.session_id IS NULL
   OR m.summarised_at < now()  -- not already this time (now() is the transaction's start)
      AND (s.ended_at IS NULL
           OR m.summarised_at < s.last_seen_at + interval '{SEEN_EVERY_S} seconds'
           OR m.summarised_at < s.ended_at)
ORDER BY s.ended_at IS NULL DESC, s.last_seen_at DESC
LIMIT {BATCH}"""

# Where a consultant and a client or student agreed to voice analysis and someone spoke: the
# consultant's share of the talk and how often they interrupted a client or student. Each view
# is asked for the session by value: the sums of that session alone are then made.
_SPEECH = f"""
SELECT CAST(:id AS uuid) AS session_id,
       EXISTS (SELECT FROM speech_segments g WHERE g.session_id = :id)
       AND EXISTS (SELECT FROM participants p WHERE p.session_id = :id
                   AND p.role = 'consultant' AND {ever_given_sql("p", "voice")})
       AND EXISTS (SELECT FROM participants p WHERE p.session_id = :id
                   AND p.role <> 'consultant' AND {ever_given_sql("p", "voice")}) AS voiced,
       (SELECT coalesce(sum(m.talk_share), 0) FROM speech_summary m
        JOIN participants p ON p.id = m.participant_id AND p.role = 'consultant'
        WHERE m.session_id = :id) AS consultant_talk_share,
       (SELECT count(*) FROM speech_interruptions i
        JOIN participants b ON b.id = i.by_participant AND b.role = 'consultant'
        JOIN participants o ON o.id = i.of_participant AND o.role <> 'consultant'
        WHERE i.session_id = :id) AS clients_interrupted"""

_REFRESH = f"""
INSERT INTO session_summaries
SELECT v.*, sp.voiced,
       CASE WHEN sp.voiced THEN sp.consultant_talk_share END,
       CASE WHEN sp.voiced THEN sp.clients_interrupted END, now()
FROM session_summary v JOIN ({_SPEECH}) sp USING (session_id)
WHERE v.session_id = :id
ON CONFLICT (session_id) DO UPDATE SET {{columns}}"""


_PARTICIPANTS = """
INSERT INTO participant_summaries
SELECT v.*, now() FROM participant_summary v WHERE v.session_id = :id
ON CONFLICT (participant_id) DO UPDATE SET {columns}"""


def refresh_summaries(conn: Connection) -> int | None:
    """Rewrite the rows of up to BATCH stale sessions; how many, or None when another worker is
    at it."""
    if not conn.scalar(text(f"SELECT pg_try_advisory_xact_lock({_LOCK})")):
        return None
    statements = [_upsert(_REFRESH, SessionSummaryRow), _upsert(_PARTICIPANTS,
                                                                ParticipantSummaryRow)]
    ids = conn.execute(text(_STALE)).scalars().all()
    for session_id in ids:  # one at a time: the views' sums then read that session alone
        for statement in statements:
            conn.execute(statement, {"id": session_id})
    return len(ids)


def _upsert(query: str, row: type) -> TextClause:
    columns = [c.name for c in row.__table__.columns if not c.primary_key]
    return text(query.format(columns=", ".join(f"{c} = excluded.{c}" for c in columns)))
