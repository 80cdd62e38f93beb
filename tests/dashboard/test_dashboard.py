"""A manager signs in and sees the sessions the pipeline stored; nobody else sees anything."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from tests.dashboard.conftest import ARTIFACTS, sign_in
from tests.support.http import status_of


@pytest.mark.parametrize("path, status", [("/", 302), ("/about", 302),
                                          ("/_dash-layout", 403), ("/_dash-dependencies", 403)])
def test_without_signing_in_there_is_no_page_and_no_data(dashboard_url, path, status):
    assert status_of(f"{dashboard_url}{path}") == status


def test_a_callback_without_signing_in_is_refused(dashboard_url):
    request = urllib.request.Request(f"{dashboard_url}/_dash-update-component", data=b"{}",
                                     headers={"Content-Type": "application/json"})
    assert status_of(request) == 403


def test_a_wrong_password_is_refused(browser, dashboard_url):
    page = browser.new_page()
    sign_in(page, dashboard_url, "not the password")
    expect(page.locator(".error")).to_contain_text("do not match")
    page.close()


def test_the_manager_sees_each_session_with_its_quality(page: Page, dashboard_url,
                                                         analysed_room):
    page.reload()
    row = page.locator("#sessions tr", has_text=analysed_room)
    expect(row).to_contain_text("Dr Bob", timeout=30_000)
    expect(row.locator("td.quality")).to_have_text(re.compile(r"^\d+$"))
    page.screenshot(path=ARTIFACTS / "dashboard-sessions.png", full_page=True)


def test_about_the_numbers_names_the_model_and_its_limits(page: Page, dashboard_url,
                                                           analysed_room):
    page.goto(f"{dashboard_url}/about")
    expect(page.locator("#model-versions")).to_contain_text("cnn48", timeout=30_000)
    expect(page.locator("body")).to_contain_text("reads expressions, not feelings")
    page.screenshot(path=ARTIFACTS / "dashboard-about.png", full_page=True)


def test_a_session_report_shows_each_client_over_time_and_downloads(page: Page, dashboard_url,
                                                                    analysed_room, tmp_path,
                                                                    engine):
    page.goto(dashboard_url)
    page.click(f"text={analysed_room}")
    expect(page.locator("#summary")).to_contain_text("quality", timeout=30_000)
    with engine.connect() as conn:
        view = conn.execute(text("SELECT session_id, quality, face_presence, facing_screen "
                                 "FROM session_summary WHERE room = :room"),
                            {"room": analysed_room}).one()
        # The shares are of the live reading's leading expression, or of its doubt
        # (contracts.smoothing).
        led_most = conn.execute(text(
            "SELECT CASE WHEN unclear THEN 'unclear' ELSE leading_expression::text END "
            "AS emotion, count(*) FROM emotion_readings "
            "WHERE session_id = :id GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"),
            {"id": view.session_id}).one()
    expect(page.locator("#summary")).to_contain_text(
        f"quality {view.quality:.0f} / 100 · face in view {view.face_presence:.0%} · "
        f"facing the screen {view.facing_screen:.0%}")
    section = page.locator("section.participant", has_text="client (client)")
    expect(section.locator(".js-plotly-plot")).to_have_count(2)
    expect(section.locator(".shares")).to_contain_text(
        f"Leading expression of the live reading: {led_most.emotion} ")
    for emotion in ("happy", "neutral", "sad"):
        expect(section.locator(".legend").first).to_contain_text(emotion)
    with page.expect_download() as download:
        page.click("#csv-button")
    rows = (tmp_path / "report.csv")
    download.value.save_as(rows)
    header, *lines = rows.read_text().splitlines()
    assert header.startswith("participant_id,participant,bucket,face_presence,facing_screen,"
                             "others_in_view,quality,angry")
    assert lines and all(line.split(",")[1] == "client" for line in lines)
    page.screenshot(path=ARTIFACTS / "dashboard-report.png", full_page=True)


def test_history_shows_each_consultants_weeks_and_filters_sessions(page: Page, dashboard_url,
                                                                   analysed_room):
    page.goto(f"{dashboard_url}/history")
    expect(page.locator("#weekly .legend, #weekly .gtitle").first).to_be_visible(timeout=30_000)
    expect(page.locator("#comparison-table")).to_contain_text("Dr Bob")
    expect(page.locator("#history-sessions")).to_contain_text(analysed_room)
    page.screenshot(path=ARTIFACTS / "dashboard-history.png", full_page=True)
    page.fill("#min-quality", "100")
    page.press("#min-quality", "Enter")
    expect(page.locator("#history-sessions")).to_contain_text("No session matches")
