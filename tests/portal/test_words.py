"""No raw code, field name or login name reaches a portal page: every page kind, as every demo person
(seed_demo), read for audit verbs, snake_case state codes, usernames and "Done: verb"; and a
white-label partner's people never read the parent's name."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from .crawl import DEMO_USERNAMES, crawl, raw_words, read


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


def _pages(username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))

    def get(url):
        response = client.get(url)
        is_page = response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")
        return response.status_code, response.content.decode() if is_page else ""

    return list(crawl(get))


def test_every_portal_page_speaks_in_words_to_every_demo_person(demo, settings):
    problems, visited = [], 0
    for username in DEMO_USERNAMES:
        pages = _pages(username)
        assert len(pages) >= 5, f"{username} reached only {[u for u, *_ in pages]}"
        for url, status, html in pages:
            visited += 1
            if status >= 500:
                problems.append(f"{username} {url}: HTTP {status}")
                continue
            text, _ = read(html)
            raw = sorted(set(raw_words(text)))
            if raw:
                problems.append(f"{username} {url}: {raw}")
            if username.startswith("wingtip-") and settings.PARENT_COMPANY_NAME.lower() in html.lower():
                problems.append(f"{username} {url}: names the parent ({settings.PARENT_COMPANY_NAME})")
    assert visited > 150
    assert not problems, "Raw codes on portal pages:\n" + "\n".join(problems)


def test_the_words_check_catches_what_it_is_for():
    assert "case.hand_back" in raw_words("Tina case.hand_back Acme")
    assert "in_review" in raw_words("Order in_review since")
    assert "tailspin-rep" in raw_words("Assigned to tailspin-rep today")
    assert raw_words("Mail tailspin-rep@example.com or see In review") == []
    assert raw_words("Done: approve.") == ["Done:"]
