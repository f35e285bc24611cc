"""axe-core (shipped in axe-playwright-python) on every portal page kind, as people of each side, on
a phone: no serious or critical violation, and no page wider than the screen."""

import pytest

from tests.portal.crawl import crawl

from .conftest import PHONE

pytestmark = [pytest.mark.browser]

# One person per kind of menu: partner seller, partner support, white label, parent staff.
ROLES = ["tailspin-rep", "tailspin-support", "wingtip-admin", "channel-manager"]


def test_every_portal_page_has_no_serious_accessibility_violation(people):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems, checked = [], 0
    for username in ROLES:
        person = people(username, PHONE).sign_in()
        page = person.page

        def get(url, page=page, person=person):
            response = page.goto(person.base + url)
            return response.status, page.content() if response.status == 200 else ""

        for url, status, _html in crawl(get, per_name=1, limit=25):
            if status != 200:
                problems.append(f"{username} {url}: HTTP {status}")
                continue
            checked += 1
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"{username} {url}: {width}px wide on a {PHONE['width']}px phone")
            results = axe.run(page)
            for violation in results.response["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    targets = [node["target"] for node in violation["nodes"][:3]]
                    problems.append(f"{username} {url}: {violation['id']} ({violation['impact']}) {targets}")
    assert checked >= 40
    assert not problems, "\n".join(problems)
