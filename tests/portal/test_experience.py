"""The portal's presentation and experience: words and numbers, the menu by role, the white-label
sign-in, notifications (centre, preferences, digest) and the notices the domains send."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from cases import services as case_services
from deals import services as deal_services
from deals.models import DealRegistration
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Notification, NotificationPreference, PersonalSettings
from partners.notifications import notify, set_preferences
from partners.presentation import activity_sentence, day, label, money, relative, when
from partners.tasks import send_notification_digests
from tests.cases.conftest import people as case_people
from tests.factories import PartnerFactory, ProductFactory, parent_user, partner_user
from tests.factories.deals import registration_of

pytestmark = pytest.mark.django_db


# Words and numbers --------------------------------------------------------------------------------


def test_money_always_has_its_currency_and_grouping():
    assert money(Decimal("42000"), "USD") == "$42,000.00"
    assert money(Decimal("1250.5"), "EUR") == "€1,250.50"
    assert money(Decimal("90"), "CAD") == "CA$90.00"
    assert money(None, "USD") == "—"


def test_dates_in_one_style_and_the_persons_time_zone():
    moment = datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC)
    assert day(moment) == "3 Dec 2026" and when(moment) == "3 Dec 2026, 23:30"
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert when(moment) == "4 Dec 2026, 08:30"
    now = timezone.now()
    assert relative(now + datetime.timedelta(days=3, hours=1)) == "in 3 days"
    assert relative(now - datetime.timedelta(hours=2, minutes=5)) == "2 hours ago"


def test_codes_read_as_labels_and_audit_events_as_sentences(partner_a, admin_a):
    assert label("in_review") == "In review" and label("pending_approval") == "Pending approval"
    admin_a.first_name, admin_a.last_name = "Tina", "Admin"
    event = AuditEvent(actor=admin_a, verb="case.hand_back", object_repr="#4 VPN down", object_id="4")
    assert activity_sentence(event) == "Tina Admin handed back the case #4 VPN down."
    system = AuditEvent(actor=None, verb="deal_registration.expiry_warning", object_repr="Acme", object_id="1")
    assert activity_sentence(system) == "The deal registration Acme expires soon."


def test_dates_follow_the_persons_time_zone_setting(client, partner_a, admin_a):
    PersonalSettings.objects.create(user=admin_a, time_zone="Asia/Tokyo")
    registration = registration_of(partner_user(partner_a, PartnerRole.REP))
    client.force_login(admin_a)
    page = client.get(f"/portal/deals/registrations/{registration.pk}/").content.decode()
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        tokyo = when(registration.submitted_at)
    assert tokyo in page and tokyo != when(registration.submitted_at)


# Menu and home by role -----------------------------------------------------------------------------


def _menu(client, user, path="/portal/"):
    from partners.templatetags.portal import portal_nav

    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return [(e["label"], e["active"]) for e in portal_nav({"request": response.wsgi_request})]


def test_the_menu_shows_what_the_role_and_agreement_allow(client):
    dual = PartnerFactory(business_model=BusinessModel.DUAL)
    white = PartnerFactory(business_model=BusinessModel.WHITE_LABEL)
    support = [name for name, _ in _menu(client, partner_user(dual, PartnerRole.SUPPORT))]
    assert support[:2] == ["Home", "Cases"] and "Leads" not in support and "Pipeline" not in support
    rep = [name for name, _ in _menu(client, partner_user(dual, PartnerRole.REP))]
    assert "Team" not in rep and "Commissions" in rep and "Leads" in rep
    white_admin = [name for name, _ in _menu(client, partner_user(white, PartnerRole.ADMIN))]
    assert "Commissions" not in white_admin and "Team" in white_admin
    # Typed in, the page still answers as the view decides (the menu only hides it).
    assert client.get("/portal/deals/commissions/").status_code in (200, 403, 404)


def test_one_menu_entry_is_current(client):
    rep = partner_user(PartnerFactory(business_model=BusinessModel.DUAL), PartnerRole.REP)
    entries = _menu(client, rep, "/portal/quotes/orders/")
    assert [name for name, active in entries if active] == ["Orders"]


def test_home_leads_with_the_work_waiting(client):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep)
    deal_services.deal_registration_return(
        user=parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner]), registration=registration, reason="Domain?"
    )
    client.force_login(rep)
    page = client.get("/portal/").content.decode()
    assert "Needs you now" in page and "Registrations returned for changes" in page
    assert page.index("Needs you now") < page.index("Open pipeline")


# White label from the first page --------------------------------------------------------------------


def test_white_label_sign_in_logout_and_errors_never_name_the_parent(client, settings):
    partner = PartnerFactory(slug="blue", display_name="Blue Sky IT", business_model=BusinessModel.WHITE_LABEL)
    person = partner_user(partner, PartnerRole.ADMIN)
    parent = settings.PARENT_COMPANY_NAME
    page = client.get("/portal/p/blue/login/")
    assert page.status_code == 200 and "Blue Sky IT" in page.content.decode() and parent not in page.content.decode()
    assert client.get("/portal/p/nobody/login/").status_code == 404
    favicon = client.get("/portal/p/blue/favicon.svg")
    assert favicon["Content-Type"] == "image/svg+xml" and b">B<" in favicon.content
    client.force_login(person)
    for path in ("/portal/", "/portal/no-such-page/", "/portal/notifications/", "/portal/settings/"):
        body = client.get(path).content.decode()
        assert parent not in body and "Blue Sky IT" in body, path
    response = client.post("/portal/logout/")
    assert response["Location"] == "/portal/p/blue/login/"
    # Later in this browser, the general sign-in page and a 404 keep the partner's brand.
    for path in ("/portal/login/", "/portal/no-such-page/"):
        body = client.get(path).content.decode()
        assert parent not in body and "Blue Sky IT" in body, path


def test_brand_colour_is_a_stylesheet_not_inline_style(client, partner_a, admin_a):
    client.force_login(admin_a)
    page = client.get("/portal/").content.decode()
    assert "<style" not in page and "/portal/brand.css?c=" in page
    css = client.get("/portal/brand.css", {"c": "#7a1fa2"})
    assert css["Content-Type"] == "text/css" and b"--brand: #7a1fa2;" in css.content
    assert b"expression" not in client.get("/portal/brand.css", {"c": "red;}body{x:expression(1)"}).content


def test_other_partners_people_see_the_parent_brand(client, settings, partner_a, admin_a):
    client.force_login(admin_a)
    assert settings.PARENT_COMPANY_NAME in client.get("/portal/").content.decode()
    response = client.post("/portal/logout/")
    assert response["Location"] == "/portal/login/"


# Notifications --------------------------------------------------------------------------------------


def test_preferences_decide_portal_email_digest_or_nothing(admin_a, django_capture_on_commit_callbacks, settings):
    set_preferences(
        user=admin_a,
        channels={"deals.lead_offered": "off", "cases.case_assigned": "portal", "quotes.order_reviewed": "digest"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(recipients=[admin_a], kind="deals.lead_offered", key="k1", title="Lead") == []
        (portal_only,) = notify(recipients=[admin_a], kind="cases.case_assigned", key="k2", title="Case")
        (digest,) = notify(recipients=[admin_a], kind="quotes.order_reviewed", key="k3", title="Order A")
        notify(recipients=[admin_a], kind="quotes.order_reviewed", key="k4", title="Order B")
        (emailed,) = notify(recipients=[admin_a], kind="quotes.order_fulfilled", key="k5", title="Live")
    assert not portal_only.email_wanted and digest.digest_wanted and emailed.email_wanted
    assert [m.subject for m in mail.outbox] == [f"[{settings.PARENT_COMPANY_NAME}] Live"]
    assert send_notification_digests() == 1
    assert mail.outbox[-1].subject == f"[{settings.PARENT_COMPANY_NAME}] 2 updates for you"
    assert "Order A" in mail.outbox[-1].body and "Order B" in mail.outbox[-1].body
    assert send_notification_digests() == 0  # once
    # Unknown kinds and channels are ignored.
    set_preferences(user=admin_a, channels={"nope": "off", "cases.case_assigned": "loud"})
    assert NotificationPreference.objects.for_user(admin_a).count() == 3


def test_notification_centre_counts_unread_and_marks_read(client, admin_a, rep_a):
    (first,) = notify(recipients=[admin_a], kind="x", key="n1", title="First news", url="/portal/", email=False)
    notify(recipients=[admin_a], kind="x", key="n2", title="Second news", email=False)
    notify(recipients=[rep_a], kind="x", key="n3", title="Not yours", email=False)
    client.force_login(admin_a)
    page = client.get("/portal/").content.decode()
    assert "Notifications: 2 unread" in page
    page = client.get("/portal/notifications/").content.decode()
    assert "First news" in page and "Second news" in page and "Not yours" not in page
    response = client.post("/portal/notifications/read/", {"id": [first.pk], "open": first.pk})
    assert response["Location"] == "/portal/"
    assert "Notifications: 1 unread" in client.get("/portal/").content.decode()
    client.post("/portal/notifications/read/")
    assert Notification.objects.for_user(admin_a).unread().count() == 0
    # Someone else's notification cannot be opened or marked.
    other = Notification.objects.get(key="n3")
    client.post("/portal/notifications/read/", {"id": [other.pk], "open": other.pk})
    other.refresh_from_db()
    assert other.read_at is None


def test_settings_page_saves_time_zone_and_preferences(client, admin_a):
    client.force_login(admin_a)
    assert client.get("/portal/settings/").status_code == 200
    response = client.post("/portal/settings/", {"time_zone": "Nowhere/City"})
    assert "Choose a time zone from the list." in response.content.decode()
    client.post("/portal/settings/", {"time_zone": "Europe/Berlin", "kind-deals.lead_offered": "digest"})
    assert PersonalSettings.objects.get(user=admin_a).time_zone == "Europe/Berlin"
    assert NotificationPreference.objects.get(user=admin_a, kind="deals.lead_offered").channel == "digest"


# Notices from the domains -----------------------------------------------------------------------------


def test_registration_decisions_and_extensions_tell_the_partner(django_capture_on_commit_callbacks):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP, email="rep@p.example")
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner], email="cm@parent.example")
    with django_capture_on_commit_callbacks(execute=True):
        registration = registration_of(rep, name="Contoso Ltd", products=[ProductFactory()])
    assert Notification.objects.filter(recipient=manager, kind="deals.registration_submitted").exists()
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.deal_registration_approve(user=manager, registration=registration)
    note = Notification.objects.get(recipient=rep, kind="deals.registration_decided")
    assert note.title.startswith("Your deal registration for Contoso Ltd was approved: protected until")
    assert any(m.to == ["rep@p.example"] and "Contoso Ltd was approved" in m.subject for m in mail.outbox)
    deal_services.deal_registration_request_extension(user=rep, registration=registration, days=30, reason="Slow")
    deal_services.deal_registration_decide_extension(user=manager, registration=registration, approve=True)
    assert Notification.objects.filter(recipient=rep, kind="deals.extension_decided").count() == 1


def test_case_escalation_hand_back_and_assignment_tell_the_people_who_work_it():
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    agent, _rep, customer = case_people(partner)
    colleague = partner_user(partner, PartnerRole.SUPPORT)
    parent_support = parent_user(ParentRole.SUPPORT)
    case = case_services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="Bill")
    case_services.case_assign(user=agent, case=case, assignee=colleague)
    assert Notification.objects.filter(recipient=colleague, kind="cases.case_assigned").count() == 1
    case = case_services.case_escalate(user=colleague, case=case, reason="Refund needed")
    assert Notification.objects.get(recipient=parent_support, kind="cases.case_escalated").body == "Refund needed"
    case_services.case_hand_back(user=parent_support, case=case, reason="Partner can refund")
    assert Notification.objects.filter(recipient=agent, kind="cases.case_handed_back").exists()


def test_lead_offer_tells_the_sellers_with_the_deadline():
    from tests.factories.deals import LeadFactory

    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    support = partner_user(partner, PartnerRole.SUPPORT)
    lead = LeadFactory(company_name="Fresh Lead Co")
    deal_services.lead_forward(
        user=parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner]), lead=lead, partner=partner
    )
    note = Notification.objects.get(recipient=rep, kind="deals.lead_offered")
    assert note.title.startswith("New lead for you: Fresh Lead Co. Answer by ") and note.title.endswith("UTC")
    assert not Notification.objects.filter(recipient=support).exists()


# Forms and review queues --------------------------------------------------------------------------------


def test_approve_and_next_opens_the_next_registration(client):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    first = registration_of(rep, name="First Co", domain="first.example")
    second = registration_of(rep, name="Second Co", domain="second.example")
    client.force_login(parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner]))
    response = client.post(f"/portal/deals/registrations/{first.pk}/approve/", {"and_next": "1"})
    assert response["Location"] == f"/portal/deals/registrations/{second.pk}/"
    response = client.post(f"/portal/deals/registrations/{second.pk}/approve/", {"and_next": "1"}, follow=True)
    assert "No other registration is waiting for review." in response.content.decode()


def test_registration_form_asks_for_contact_competitor_country_and_currency(client):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    product = ProductFactory()
    client.force_login(rep)
    page = client.get("/portal/deals/registrations/new/").content.decode()
    assert '<option value="DE">Germany</option>' in page and "EUR · Euro" in page
    response = client.post(
        "/portal/deals/registrations/new/",
        {
            "customer_name": "Northwind Traders",
            "customer_country": "DE",
            "contact_name": "Dana Buyer",
            "contact_email": "dana@northwind.example",
            "competitor": "Acme Cloud",
            "estimated_value": "12000",
            "currency": "EUR",
            "expected_close_date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
            "product_1": product.pk,
            "quantity_1": 2,
        },
    )
    assert response.status_code == 302
    registration = DealRegistration.objects.for_user(rep).get(customer_name="Northwind Traders")
    assert (registration.contact_name, registration.competitor, registration.currency) == (
        "Dana Buyer",
        "Acme Cloud",
        "EUR",
    )
    page = client.get(f"/portal/deals/registrations/{registration.pk}/").content.decode()
    assert "€12,000.00" in page and "Germany" in page
