"""A session older than the raw-data window: its report says its detail was deleted, as the
retention policy says, and shows the summary kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import text

from tests.support.readings import face, store_faces
from tests.support.summaries import summarise


def test_an_old_sessions_report_says_its_detail_expired_and_keeps_its_summary(
        page: Page, dashboard_url, engine, settings):
    began = datetime.now(UTC) - timedelta(days=settings.retention_days + 10)
    session_id = store_faces(engine, [face("happy", 0.9)] * 6,
                             [began + timedelta(seconds=s) for s in range(6)])
    with engine.begin() as conn:
        # Ended long ago: its summary, once written, is final.
        conn.execute(text("UPDATE sessions SET started_at = :at, ended_at = :end, "
                          "last_seen_at = :end WHERE id = :id"),
                     {"at": began, "end": began + timedelta(minutes=1), "id": session_id})
    summarise(engine)
    with engine.begin() as conn:  # what a retention pass does to the week of its frames
        for table in ("emotion_events", "samples"):
            conn.execute(text(f"DELETE FROM {table} WHERE session_id = :id"), {"id": session_id})
    page.goto(f"{dashboard_url}/report/{session_id}")
    expect(page.locator(".expired")).to_contain_text(
        f"kept {settings.retention_days:g} days and has been deleted", timeout=30_000)
    # happy 0.9 and a sixth of the rest each to neutral and surprise: positivity 93
    expect(page.locator("#summary")).to_contain_text("quality 93 / 100")
    expect(page.locator("section.participant")).to_contain_text("Ann (client)")
