"""Migrations build exactly the schema the code declares, and undo it completely."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from contracts.database import drop_database, engine_for
from contracts.schema import Base
from migrations.runner import downgrade, upgrade


@pytest.fixture
def scratch_url(settings):
    url = settings.database_url.rsplit("/", 1)[0] + f"/econsult_migrations_{uuid.uuid4().hex[:8]}"
    yield url
    drop_database(url)


VIEWS = {"session_summary", "participant_minute", "participant_summary", "emotion_readings",
         "personal_readings", "speech_turns", "speech_interruptions", "speech_summary",
         "session_speech"}


def _tables_and_types(url: str) -> tuple[set[str], set[str]]:
    """Tables and views (together), and enum types, that the migrations made."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            types = set(conn.scalars(text("SELECT typname FROM pg_type t JOIN pg_namespace n "
                                          "ON n.oid = t.typnamespace WHERE n.nspname = 'public' "
                                          "AND t.typtype = 'e'")))
            relations = set(inspect(conn).get_table_names()) | set(inspect(conn).get_view_names())
            return relations - {"alembic_version"}, types
    finally:
        engine.dispose()


def test_upgrade_creates_the_declared_schema_and_downgrade_removes_it(scratch_url):
    upgrade(scratch_url)
    engine = engine_for(scratch_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()
    assert _tables_and_types(scratch_url)[0] == set(Base.metadata.tables) | VIEWS

    downgrade(scratch_url, "base")
    assert _tables_and_types(scratch_url) == (set(), set())

    upgrade(scratch_url)
    assert _tables_and_types(scratch_url)[0] == set(Base.metadata.tables) | VIEWS


def test_econsult_migrate_creates_a_missing_database(scratch_url):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": scratch_url}
    result = subprocess.run([sys.executable, "-m", "cli.main", "migrate"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _tables_and_types(scratch_url)[0] == set(Base.metadata.tables) | VIEWS


def test_accounts_made_before_roles_existed_become_managers(scratch_url):
    upgrade(scratch_url, "0006")
    engine = engine_for(scratch_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, password_hash) VALUES ('old', 'x')"))
        upgrade(scratch_url)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT role::text FROM users WHERE username = 'old'")) \
                == "manager"
    finally:
        engine.dispose()


def test_analysts_cannot_read_sign_ins_or_invitations(scratch_url):
    upgrade(scratch_url)
    engine = engine_for(scratch_url)
    try:
        with engine.connect() as conn:
            readable = set(conn.scalars(text(
                "SELECT table_name FROM information_schema.role_table_grants "
                "WHERE grantee = 'econsult_analyst' AND privilege_type = 'SELECT'")))
    finally:
        engine.dispose()
    assert readable.isdisjoint({"users", "sign_ins", "failed_sign_ins",
                                "failed_sign_ins_by_address", "invitations"})
    assert {"sessions", "rooms"} <= readable
