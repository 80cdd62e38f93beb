"""Settings come from the environment, with defaults that work on a developer's machine."""

import pytest

from contracts.settings import Settings, SettingsError


def test_defaults_point_at_local_services():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("postgresql+psycopg://postgres@127.0.0.1:5432/")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_variables_override_defaults_with_their_types():
    settings = Settings.from_env({"ECONSULT_SAMPLE_FPS": "5", "ECONSULT_WORKERS": "3",
                                  "REDIS_URL": "redis://cache:6379/1"})
    assert (settings.sample_fps, settings.workers, settings.redis_url) == (
        5.0, 3, "redis://cache:6379/1")


def test_a_bad_number_is_named_in_the_error():
    with pytest.raises(SettingsError, match="ECONSULT_WORKER_BATCH='lots' is not a valid int"):
        Settings.from_env({"ECONSULT_WORKER_BATCH": "lots"})


def test_settings_pass_to_another_process_unchanged():
    settings = Settings.from_env({"ECONSULT_REDIS_PREFIX": "x", "ECONSULT_SAMPLE_FPS": "0.5"})
    assert Settings.from_env(settings.to_env()) == settings


def test_every_setting_is_documented_in_the_readme():
    from pathlib import Path

    from contracts.settings import env_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [name for name, _ in env_table() if f"| `{name}` |" not in readme]
    assert missing == []
