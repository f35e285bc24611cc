"""Browser tests: Playwright drives the Debian Chromium (never a downloaded browser) against a live
server with the demo channel. They run on CI's PostgreSQL leg; elsewhere they skip and say why."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

CHROMIUM = os.environ.get("PRM_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "demo-pass-2026"


def _skip_reason():
    if connection.vendor != "postgresql":
        return "browser tests run on the PostgreSQL leg (DATABASE_URL=postgres://…)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker, browser):
    """The demo channel, seeded once for the browser tests, and a live server over it. The seed is
    committed (the server thread has its own connection), so the tables are emptied afterwards for
    the tests that follow."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        # The hasher the tests sign in with (conftest's fast one), and DEBUG, which seed_demo asks for.
        with override_settings(DEBUG=True, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("seed_demo", verbosity=0)
        server = LiveServer("localhost")
        try:
            with override_settings(PORTAL_BASE_URL=server.url):
                yield server.url
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


class Person:
    """One person's browser: a context of the given size, signed in as `username`."""

    def __init__(self, browser, base, username, viewport):
        self.base, self.username, self.viewport = base, username, viewport
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def go(self, path):
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, f"{path}: HTTP {response and response.status}"
        self.assert_fits()
        return response

    def assert_fits(self):
        """Nothing scrolls sideways (the phone layout's promise)."""
        self.page.wait_for_load_state("load")
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.viewport["width"], f"{self.page.url} is {width}px wide at {self.viewport['width']}px"

    def sign_in(self, path="/portal/login/"):
        self.go(path)
        self.page.get_by_label("Username").fill(self.username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/portal/")
        return self

    def close(self):
        assert not self.errors, f"JavaScript errors for {self.username}: {self.errors}"
        self.context.close()


@pytest.fixture
def people(browser, demo, db):
    opened = []

    def open_as(username, viewport):
        person = Person(browser, demo, username, viewport)
        opened.append(person)
        return person

    yield open_as
    for person in opened:
        person.close()
