"""schemathesis against a live server on PostgreSQL, as a partner rep and as the parent admin, with the
throttles raised so the cases are real requests: no 5xx, and every response conforms to the OpenAPI
schema (body and content type). Skips on SQLite (the live server shares the test database, which
SQLite's in-memory test database cannot). Bounded: fuzzing phase only, SCHEMATHESIS_MAX_EXAMPLES (5)
per operation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from .conftest import CASES

ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="schemathesis runs on the PostgreSQL leg (needs a live server)"),
    pytest.mark.django_db(transaction=True),
]
ROLES = {"partner rep": "tailspin-rep", "parent admin": "parent-admin"}
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture
def raised_throttles(monkeypatch):
    for scope in ("anon", "user", "precheck", "login_account"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "1000000/minute")
        monkeypatch.setitem(django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope, "1000000/minute")


def test_api_as_partner_rep_and_parent_admin(live_server, raised_throttles, tmp_path, settings):
    settings.DEBUG = True  # seed_demo refuses otherwise; the live server then answers as in production
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    failures = {}
    for role, username in ROLES.items():
        token = APIClient().post("/api/v1/auth/token/", {"username": username, "password": "demo-pass-2026"})
        assert token.status_code == 200, token.content
        report = tmp_path / f"{username}.json"
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{live_server.url}/api/schema/",
                "--header",
                f"Authorization: Token {token.json()['token']}",
                "--checks",
                CHECKS,
                "--phases",
                "fuzzing",
                "--max-examples",
                os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"),
                "--workers",
                "2",
                "--seed",
                "20261201",
                "--generation-database",
                "none",
                "--request-timeout",
                "30",
                "--no-color",
                "--report",
                "json",
                "--report-json-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
        summary = json.loads(report.read_text())
        CASES[f"schemathesis:{role}"] += summary["test_cases"]["generated"]
        if summary["failures"] or summary["errors"]:
            failures[role] = result.stdout[-6000:]
            print(result.stdout[-20000:])
        assert summary["operations"]["tested"] > 50
    assert failures == {}
