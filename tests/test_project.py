"""The project's own shape: settings, the OpenAPI schema, docker compose, the Celery config."""

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "postgres", "redis"}
    assert "gunicorn prm.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A prm worker")
    assert services["beat"]["command"].startswith("celery -A prm beat")
    images = {services[name].get("image") for name in ("web", "worker", "beat")}
    assert images == {"prm:latest"}, "web, worker and beat share one image"
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
    assert env["DEBUG"] == "false"


def test_production_settings_pass_check_deploy():
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "prm.example.com",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_collectstatic_builds_the_production_manifest(tmp_path):
    """The image runs `collectstatic` with the compressed manifest storage: a vendored file that
    names a missing one (a source map, say) fails the build, and every page with it."""
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "prm.example.com",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_production_refuses_the_default_secret():
    env = {"DEBUG": "false", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_celery_is_json_only_with_late_acks():
    from prm.celery import app

    conf = app.conf
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit
    assert "partners-send-pending-invitations" in conf.beat_schedule


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings():
    from drf_spectacular.generators import SchemaGenerator

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/partners/",
        "/api/v1/partner-users/",
        "/api/v1/customers/",
        "/api/v1/products/",
    ):
        assert path in paths, path
    detail = paths["/api/v1/customers/{id}/"]
    assert {"400", "403", "404"} <= set(detail["patch"]["responses"])


@pytest.mark.django_db
def test_schema_and_docs_are_served():
    client = Client()
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


def test_embedded_default_without_environment():
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        assert settings.CELERY_TASK_ALWAYS_EAGER
    else:
        assert not settings.CELERY_TASK_ALWAYS_EAGER and settings.CELERY_BROKER_URL.startswith("redis://")
