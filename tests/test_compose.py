"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked instead."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_defines_the_services_the_pipeline_needs():
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "worker"} <= set(services)


def test_workers_can_be_scaled_and_wait_for_their_dependencies():
    worker = _compose()["services"]["worker"]
    assert "container_name" not in worker, "a fixed container name prevents --scale"
    assert worker["command"][:1] == ["worker"]
    depends = worker["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"


def test_every_service_built_from_the_repo_uses_the_dockerfile():
    services = _compose()["services"]
    for name in ("migrate", "worker"):
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
    assert (ROOT / "Dockerfile").is_file()


def test_services_reach_each_other_by_name():
    environment = _compose()["x-econsult-env"]
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379")
