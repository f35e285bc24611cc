"""The main journeys in a real browser, on a desktop and on a phone: a rep registers a deal, the
channel manager approves it, the partner quotes and orders, the parent reviews the order, and a
support agent opens and escalates a case that the parent's support resolves. Each step checks what
the person sees, in words; no page scrolls sideways."""

import datetime
import re

import pytest

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser]


def expect_text(page, text):
    from playwright.sync_api import expect

    expect(page.locator("main")).to_contain_text(text)


def choose(select, text):
    """Pick the option whose words contain `text` (product names carry their SKU)."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


def open_menu_item(person, name):
    """On a phone the menu is behind its toggle; on a desktop it is always there."""
    page = person.page
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
    person.assert_fits()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_deal_to_order_and_case_journeys(people, viewport):
    company = "Journey Test Ltd" if viewport is DESKTOP else "Phone Journey Ltd"
    close = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()

    # A rep registers a deal: country and currency are choices, the contact and competitor are asked.
    rep = people("tailspin-rep", viewport).sign_in()
    expect_text(rep.page, "Needs you now")
    open_menu_item(rep, "Registrations")
    expect_text(rep.page, "My registrations")
    rep.page.get_by_role("link", name="Register a deal").click()
    page = rep.page
    page.get_by_label("Company name").fill(company)
    page.get_by_label("Web domain").fill(company.lower().replace(" ", "-") + ".example")
    page.get_by_label("Country").select_option("US")
    choose(page.get_by_label("Product 1"), "CMP-VM-S")
    page.get_by_label("Customer contact").fill("Dana Buyer")
    page.get_by_label("Competitor").fill("Acme Cloud")
    page.get_by_label("Estimated value").fill("25000")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Expected close date").fill(close)
    page.get_by_role("button", name="Submit for approval").click()
    expect_text(page, "Submitted")
    expect_text(page, "€25,000.00")
    expect_text(page, "United States")
    rep.assert_fits()

    # The channel manager finds it from the home page's work list and approves it.
    manager = people("channel-manager", viewport).sign_in()
    manager.page.get_by_role("link", name=re.compile("Deal registrations to review")).click()
    manager.page.get_by_role("link", name=company).first.click()
    expect_text(manager.page, company)
    manager.page.get_by_role("button", name="Approve", exact=True).click()
    expect_text(manager.page, "Registration approved")
    expect_text(manager.page, "Approved")

    # The rep is told, in the notification centre, and quotes the new customer.
    rep.go("/portal/")
    rep.page.get_by_role("link", name=re.compile("Notifications")).click()
    expect_text(rep.page, f"Your deal registration for {company} was approved")
    rep.go("/portal/quotes/new/")
    rep.page.get_by_label("Customer").select_option(label=company)
    rep.page.get_by_role("button", name="Create quote").click()
    expect_text(rep.page, "Quote created")
    choose(rep.page.get_by_label("Product"), "CMP-VM-S")
    rep.page.get_by_label("Quantity").fill("5")
    # Leaving the field asks for the live price preview (htmx); add the line once the page is quiet.
    rep.page.get_by_label("Quantity").press("Tab")
    rep.page.wait_for_load_state("networkidle")
    rep.page.get_by_role("button", name="Add line").click()
    expect_text(rep.page, "CMP-VM-S ·")
    expect_text(rep.page, "Subtotal")
    rep.page.get_by_role("button", name=re.compile("^Submit")).click()
    expect_text(rep.page, "Approved")
    rep.page.get_by_role("button", name="Send to customer").click()
    expect_text(rep.page, "Sent")
    rep.page.get_by_role("button", name="Customer accepted").click()
    expect_text(rep.page, "Accepted")
    rep.page.get_by_role("button", name="Place the order").click()
    expect_text(rep.page, "Order")
    rep.page.get_by_role("button", name="Submit order").click()
    expect_text(rep.page, "In review")
    order_url = rep.page.url
    rep.assert_fits()

    # The parent's reviewer opens the review queue and approves the order.
    manager.go("/portal/quotes/review/")
    expect_text(manager.page, company)
    manager.page.goto(order_url)
    manager.page.get_by_role("button", name="Approve", exact=True).click()
    expect_text(manager.page, "is now")
    rep.go(order_url.replace(rep.base, ""))
    expect_text(rep.page, "Timeline")
    expect_text(rep.page, "In review → ")

    # A support agent opens a case (subject first), and escalates it to the parent.
    agent = people("tailspin-support", viewport).sign_in()
    open_menu_item(agent, "Cases")
    expect_text(agent.page, "My open work")
    agent.page.get_by_role("link", name="Open a case").click()
    first_field = agent.page.locator("form.narrow input, form.narrow select, form.narrow textarea").nth(1)
    assert first_field.get_attribute("name") == "subject"
    agent.page.get_by_label("Subject").fill(f"{company}: cannot sign in")
    agent.page.get_by_label("Customer").select_option(label=company)
    agent.page.get_by_label("Category").select_option(index=1)
    agent.page.get_by_role("button", name="Open case").click()
    expect_text(agent.page, "opened")
    case_url = agent.page.url
    agent.go("/portal/cases/")
    expect_text(agent.page, f"{company}: cannot sign in")  # a case just opened is in the default list
    agent.page.goto(case_url)
    agent.page.get_by_label("Why escalate?").fill("Needs the identity team")
    agent.page.get_by_role("button", name=re.compile("^Escalate")).click()
    expect_text(agent.page, "Case escalated.")

    # The parent's support takes it, resolves it; the agent sees it resolved.
    parent_support = people("parent-support", viewport).sign_in()
    parent_support.page.goto(case_url)
    expect_text(parent_support.page, "Needs the identity team")
    parent_support.page.get_by_role("button", name="Assign").click()
    expect_text(parent_support.page, "Case assigned.")
    parent_support.page.get_by_role("button", name="Start work").click()
    parent_support.page.get_by_label("Resolution").fill("Reset the sign-in policy")
    parent_support.page.get_by_role("button", name="Resolve").click()
    expect_text(parent_support.page, "Case resolved.")
    agent.page.goto(case_url)
    expect_text(agent.page, "Resolved")
    agent.assert_fits()


def test_white_label_sign_in_and_logout_never_show_the_parent(people, settings):
    parent = settings.PARENT_COMPANY_NAME
    person = people("wingtip-admin", PHONE)
    person.go("/portal/p/wingtip/login/")
    assert parent not in person.page.content()
    assert parent not in person.page.title()
    person.sign_in("/portal/p/wingtip/login/")
    assert parent not in person.page.content()
    person.page.get_by_role("button", name="Menu").click()
    person.page.get_by_role("button", name="Log out").click()
    person.page.wait_for_url("**/portal/p/wingtip/login/")
    assert parent not in person.page.content()
    # The general sign-in page, reached later in this browser, keeps the partner's brand.
    person.go("/portal/login/")
    assert parent not in person.page.content()
    response = person.page.goto(person.base + "/portal/no-such-page/")
    assert response.status == 404
    assert parent not in person.page.content() and "Wingtip" in person.page.content()
