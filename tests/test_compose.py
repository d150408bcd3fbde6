"""docker-compose.yml describes the production topology (Docker cannot run here: the file is
checked for what `docker compose` would need)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_part_of_the_topology_is_there() -> None:
    assert set(SERVICES) == {"postgres", "temporal", "temporal-ui", "migrate", "worker", "api"}
    assert SERVICES["temporal"]["environment"]["DB"] == "postgres12"
    assert SERVICES["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_recupero_services_reach_postgres_and_temporal() -> None:
    for name in ("migrate", "worker", "api"):
        env = SERVICES[name]["environment"]
        assert env["RECUPERO_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in env["RECUPERO_DATABASE_URL"]
        assert env["RECUPERO_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert SERVICES["worker"]["command"] == ["recupero", "worker"]
    assert SERVICES["api"]["command"] == ["recupero", "api"]
    assert SERVICES["migrate"]["command"] == ["recupero", "migrate"]


def test_dependencies_exist_and_wait_for_health() -> None:
    for name, service in SERVICES.items():
        for dep, rule in service.get("depends_on", {}).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            expected = "service_completed_successfully" if dep == "migrate" else "service_healthy"
            assert rule["condition"] == expected
            if expected == "service_healthy":
                assert "healthcheck" in SERVICES[dep], f"{dep} has no health check"


def test_workers_scale_and_services_restart() -> None:
    worker = SERVICES["worker"]
    assert "ports" not in worker and "container_name" not in worker  # --scale worker=N
    for name, service in SERVICES.items():
        assert service.get("restart") == ("no" if name == "migrate" else "unless-stopped")


def test_images_are_pinned() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        if image.startswith("recupero:"):
            assert service.get("build") == "."
            continue
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: {image} is not pinned"


def test_every_variable_is_documented_in_the_readme() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    variables = set(re.findall(r"\$\{(\w+)", text))
    assert "POSTGRES_PASSWORD" in variables and "RECUPERO_ADMIN_KEY" in variables
    for var in variables:
        assert f"`{var}`" in readme, f"{var} is not in the README's configuration table"


def test_the_image_carries_every_package_the_product_imports() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for part in ("domain", "db", "workflows", "activities", "api", "templates"):
        assert f"COPY {part} ./{part}" in dockerfile
    assert "'.[postgres]'" in dockerfile
