import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from deals import services, tasks
from deals.models import DealRegistration, Lead, LeadOffer, LeadStatus, RegistrationStatus
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Commission
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES
from tests.factories import PartnerFactory, ProductFactory, parent_user, partner_user
from tests.factories.deals import DealRegistrationFactory, LeadFactory, OpportunityFactory, registration_of

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


PAGES = [
    "/portal/deals/leads/",
    "/portal/deals/registrations/",
    "/portal/deals/registrations/new/",
    "/portal/deals/pipeline/",
    "/portal/deals/commissions/",
]


def test_anonymous_is_sent_to_login():
    for url in PAGES:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/"), url


def test_partner_pages_show_its_work(partner_a, rep_a):
    product = ProductFactory(name="Widget Cloud")
    registration = registration_of(rep_a, name="Portal Prospect", products=[product])
    lead = LeadFactory(country="US", company_name="Inbox Lead")
    services.lead_forward(user=parent_user(ParentRole.ADMIN), lead=lead, partner=partner_a)
    deal = OpportunityFactory(partner=partner_a, owner=rep_a, name="Pipeline Deal")
    # A rep sees the commissions on what it may see (here: its own deal).
    Commission.objects.create(
        partner=partner_a, source="closed_deal", source_ref=f"opportunity:{deal.pk}", amount=Decimal("77.00")
    )
    client = client_for(rep_a)
    inbox = client.get("/portal/deals/leads/").content.decode()
    assert "Inbox Lead" in inbox and "Accept" in inbox and "pat@contact.example" not in inbox
    detail = client.get(f"/portal/deals/leads/{lead.pk}/").content.decode()
    assert "Shown once you accept" in detail
    mine = client.get("/portal/deals/registrations/").content.decode()
    assert "Portal Prospect" in mine
    page = client.get(f"/portal/deals/registrations/{registration.pk}/").content.decode()
    assert "Widget Cloud" in page and "Withdraw" in page
    assert "Pipeline Deal" in client.get("/portal/deals/pipeline/").content.decode()
    assert "77.00" in client.get("/portal/deals/commissions/").content.decode()
    assert client.get("/portal/deals/registrations/new/").status_code == 200
    home = client.get("/portal/").content.decode()
    assert "Leads offered to you" in home and "Registrations pending" in home


def test_parent_home_card_and_admin_lead_add(partner_a):
    admin_user = parent_user(ParentRole.ADMIN, superuser=True)
    client = client_for(admin_user)
    assert "Registrations to review" in client.get("/portal/").content.decode()
    response = client.post(
        "/admin/deals/lead/add/",
        {
            "source": "web",
            "company_name": "Admin Lead",
            "country": "US",
            "offers-TOTAL_FORMS": "0",
            "offers-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get(company_name="Admin Lead")
    assert (
        lead.status == LeadStatus.NEW and AuditEvent.objects.filter(verb="lead.create", object_id=str(lead.pk)).exists()
    )


def test_register_a_deal_in_the_portal_with_the_live_pre_check(partner_a, partner_b, rep_a):
    product = ProductFactory()
    registration_of(partner_user(partner_b, PartnerRole.REP), name="Taken Corp", domain="taken.example")
    client = client_for(rep_a)
    check = client.post(
        "/portal/deals/registrations/pre-check/",
        {"customer_name": "Taken Corporation", "customer_country": "US"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Not open" in check and partner_b.name not in check
    check = client.post("/portal/deals/registrations/pre-check/", {"customer_name": "Free", "customer_country": "US"})
    assert "Open for registration" in check.content.decode()
    response = client.post(
        "/portal/deals/registrations/new/",
        {
            "customer_name": "Portal New Co",
            "customer_domain": "portalnew.example",
            "customer_country": "US",
            "estimated_value": "5000",
            "expected_close_date": str(timezone.localdate() + datetime.timedelta(days=20)),
            "product_1": product.pk,
            "quantity_1": 2,
            "submit": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    registration = DealRegistration.objects.get(customer_name="Portal New Co")
    assert registration.status == RegistrationStatus.SUBMITTED and registration.lines.get().quantity == 2
    bad = client.post("/portal/deals/registrations/new/", {"customer_name": "", "estimated_value": "x"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert DealRegistration.objects.count() == 2


def test_parent_review_queue_side_by_side_and_decisions(partner_a, partner_b, rep_a):
    reviewer = parent_user(ParentRole.SALES)
    product = ProductFactory()
    first = registration_of(rep_a, name="Shared Target", domain="shared.example", products=[product])
    second = registration_of(
        partner_user(partner_b, PartnerRole.REP),
        name="Shared Target GmbH",
        domain="www.shared.example",
        products=[product],
    )
    client = client_for(reviewer)
    page = client.get("/portal/deals/registrations/").content.decode()
    queue = page[page.index("<tbody") :]  # the rows (the header shows a notification count)
    assert queue.index(f">{first.pk}<") < queue.index(f">{second.pk}<")  # oldest submission first
    page = client.get(f"/portal/deals/registrations/{second.pk}/").content.decode()
    assert "side by side" in page and partner_a.name in page and partner_b.name in page
    assert "name, domain, product" in page
    client.post(f"/portal/deals/registrations/{second.pk}/approve/")
    assert DealRegistration.objects.get(pk=second.pk).status == RegistrationStatus.SUBMITTED  # first in wins
    client.post(f"/portal/deals/registrations/{first.pk}/approve/")
    assert DealRegistration.objects.get(pk=first.pk).status == RegistrationStatus.APPROVED
    client.post(f"/portal/deals/registrations/{second.pk}/reject/", {"reason": "Registered by another partner"})
    assert DealRegistration.objects.get(pk=second.pk).status == RegistrationStatus.REJECTED
    # The partner's page says only that a conflict exists.
    partner_page = client_for(partner_user(partner_b, PartnerRole.ADMIN)).get(
        f"/portal/deals/registrations/{second.pk}/"
    )
    assert partner_a.name not in partner_page.content.decode()


def test_portal_lead_accept_decline_and_routing(partner_a, rep_a):
    partner_a.territories.all().delete()
    partner_a.territories.create(country="US")
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    lead = LeadFactory(country="US")
    client_for(manager).post(f"/portal/deals/leads/{lead.pk}/route/")
    assert Lead.objects.get(pk=lead.pk).partner == partner_a
    response = client_for(rep_a).post(f"/portal/deals/leads/{lead.pk}/accept/")
    assert response.status_code == 302 and Lead.objects.get(pk=lead.pk).status == LeadStatus.ACCEPTED
    other = LeadFactory(country="US")
    client_for(manager).post(f"/portal/deals/leads/{other.pk}/forward/", {"partner": partner_a.pk})
    client_for(rep_a).post(f"/portal/deals/leads/{other.pk}/decline/", {"reason": "Busy"})
    assert LeadOffer.objects.get(lead=other).status == "declined"
    assert "Lead routing" in client_for(manager).get("/portal/deals/leads/").content.decode()


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_portal_pages_hide_other_partners(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    theirs = PartnerFactory()
    user = partner_user(mine, role)
    registration = DealRegistrationFactory(partner=theirs, customer_name="Secret Registration", status="submitted")
    lead = LeadFactory(partner=theirs, status=LeadStatus.OFFERED, company_name="Secret Lead")
    opportunity = OpportunityFactory(partner=theirs, name="Secret Opportunity")
    fee = Commission.objects.create(partner=theirs, source="referral", source_ref="s:1", amount=Decimal("1"))
    client = client_for(user)
    for url in PAGES[:2] + PAGES[3:]:
        body = client.get(f"{url}?status=").content.decode()
        assert "Secret" not in body, url
    for url in (
        f"/portal/deals/registrations/{registration.pk}/",
        f"/portal/deals/registrations/{registration.pk}/edit/",
        f"/portal/deals/leads/{lead.pk}/",
        f"/portal/deals/opportunities/{opportunity.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/portal/deals/registrations/{registration.pk}/withdraw/",
        f"/portal/deals/registrations/{registration.pk}/approve/",
        f"/portal/deals/leads/{lead.pk}/accept/",
        f"/portal/deals/leads/{lead.pk}/decline/",
        f"/portal/deals/opportunities/{opportunity.pk}/mark-won/",
        f"/portal/deals/commissions/{fee.pk}/approve/",
    ):
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    registration.refresh_from_db()
    assert registration.status == "submitted"


def test_white_label_partner_never_sees_the_parent_name():
    partner = PartnerFactory(business_model=BusinessModel.WHITE_LABEL, display_name="Own Brand Cloud")
    admin = partner_user(partner, PartnerRole.ADMIN)
    opportunity = OpportunityFactory(partner=partner, owner=admin)
    registration = registration_of(admin, name="White Prospect")
    lead = LeadFactory(partner=partner, status=LeadStatus.ACCEPTED, owner=admin)
    client = client_for(admin)
    for url in [
        *PAGES,
        f"/portal/deals/opportunities/{opportunity.pk}/",
        f"/portal/deals/registrations/{registration.pk}/",
        f"/portal/deals/leads/{lead.pk}/",
        "/portal/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert settings.PARENT_COMPANY_NAME not in response.content.decode(), url


def test_portal_forward_with_a_bad_partner_id_is_a_message_not_an_error(partner_a):
    manager = parent_user(ParentRole.ADMIN)
    lead = LeadFactory(country="US")
    response = client_for(manager).post(f"/portal/deals/leads/{lead.pk}/forward/", {"partner": "abc"}, follow=True)
    assert response.status_code == 200 and "Choose one of your partners" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


# Admin -------------------------------------------------------------------------------------------


def test_admin_lists_and_bulk_actions(partner_a, rep_a):
    admin_user = parent_user(ParentRole.ADMIN, superuser=True)
    registration = registration_of(rep_a, name="Admin Target")
    client = client_for(admin_user)
    for url in (
        "/admin/deals/dealregistration/",
        f"/admin/deals/dealregistration/{registration.pk}/change/",
        "/admin/deals/lead/",
        "/admin/deals/routingrule/",
        "/admin/deals/opportunity/",
        "/admin/partners/commission/",
    ):
        assert client.get(url).status_code == 200, url
    client.post(
        "/admin/deals/dealregistration/",
        {"action": "approve", "_selected_action": [registration.pk]},
    )
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    lead = LeadFactory(country="US")
    client.post("/admin/deals/lead/", {"action": "route", "_selected_action": [lead.pk]})
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.OFFERED
    entry = Commission.objects.create(partner=partner_a, source="referral", source_ref="a:1", amount=Decimal("9"))
    client.post("/admin/partners/commission/", {"action": "approve", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status == "approved"
    client.post("/admin/partners/commission/", {"action": "mark_paid", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status == "paid"


# Tasks -------------------------------------------------------------------------------------------


def test_expiry_warning_and_expiry_run_twice_with_one_effect(partner_a, rep_a, django_capture_on_commit_callbacks):
    reviewer = parent_user(ParentRole.SALES)
    registration = registration_of(rep_a)
    services.deal_registration_approve(user=reviewer, registration=registration)
    DealRegistration.objects.filter(pk=registration.pk).update(
        protected_until=timezone.now() + datetime.timedelta(days=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_registrations() == {"expired": 0, "warned": 1}
    assert tasks.expire_registrations() == {"expired": 0, "warned": 0}
    assert len(mail.outbox) == 1 and "protection of your deal registration" in mail.outbox[0].subject
    DealRegistration.objects.filter(pk=registration.pk).update(
        protected_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert tasks.expire_registrations() == {"expired": 1, "warned": 0}
    assert tasks.expire_registrations() == {"expired": 0, "warned": 0}
    assert tasks.expire_registration(registration.pk) is False
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.EXPIRED
    assert AuditEvent.objects.filter(verb="deal_registration.expire").count() == 1


def test_route_lead_task_is_idempotent():
    partner = PartnerFactory(territories=["US"])
    lead = LeadFactory(country="US")
    assert tasks.route_lead(lead.pk) is True
    assert tasks.route_lead(lead.pk) is False
    assert LeadOffer.objects.filter(lead=lead).count() == 1
    assert tasks.route_lead(999999) is False
    assert Lead.objects.get(pk=lead.pk).partner == partner


def test_pre_check_without_javascript_shows_the_form_with_the_answer(partner_a, rep_a):
    response = client_for(rep_a).post(
        "/portal/deals/registrations/pre-check/", {"customer_name": "Nobody Yet", "customer_country": "US"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Open for registration" in body and "Register a deal" in body
    assert 'value="Nobody Yet"' in body


def test_portal_extension_request_and_decision(partner_a, rep_a):
    reviewer = parent_user(ParentRole.SALES)
    registration = registration_of(rep_a)
    services.deal_registration_approve(user=reviewer, registration=registration)
    page = client_for(rep_a).get(f"/portal/deals/registrations/{registration.pk}/").content.decode()
    assert "days left" in page and "Request an extension (2 left)" in page
    client_for(rep_a).post(
        f"/portal/deals/registrations/{registration.pk}/request-extension/", {"days": "15", "reason": "Procurement"}
    )
    assert (
        "Approve extension"
        in client_for(reviewer).get(f"/portal/deals/registrations/{registration.pk}/").content.decode()
    )
    before = DealRegistration.objects.get(pk=registration.pk).protected_until
    client_for(reviewer).post(f"/portal/deals/registrations/{registration.pk}/approve-extension/")
    assert DealRegistration.objects.get(pk=registration.pk).protected_until == before + datetime.timedelta(days=15)
    # A partner cannot approve its own extension: the refusal is a message, nothing changes.
    client_for(rep_a).post(
        f"/portal/deals/registrations/{registration.pk}/request-extension/", {"days": "5", "reason": "More"}
    )
    response = client_for(rep_a).post(f"/portal/deals/registrations/{registration.pk}/approve-extension/", follow=True)
    assert "Only the parent decides extensions" in response.content.decode()


def test_partner_edits_a_returned_registration_and_resubmits_in_the_portal(partner_a, rep_a):
    reviewer = parent_user(ParentRole.SALES)
    product = ProductFactory()
    registration = registration_of(rep_a, name="Edit Me", products=[product])
    services.deal_registration_return(user=reviewer, registration=registration, reason="Add the seat count")
    client = client_for(rep_a)
    page = client.get(f"/portal/deals/registrations/{registration.pk}/edit/").content.decode()
    assert "Add the seat count" in page and 'value="Edit Me"' in page
    response = client.post(
        f"/portal/deals/registrations/{registration.pk}/edit/",
        {
            "customer_name": "Edit Me",
            "customer_country": "US",
            "estimated_value": "20000",
            "expected_close_date": str(timezone.localdate() + datetime.timedelta(days=40)),
            "product_1": product.pk,
            "quantity_1": 120,
            "submit": "1",
        },
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.SUBMITTED
    assert registration.estimated_value == Decimal("20000.00") and registration.lines.get().quantity == 120
    # A submitted registration is not editable; another partner's is not even there.
    assert client.get(f"/portal/deals/registrations/{registration.pk}/edit/").status_code == 302
    stranger = partner_user(PartnerFactory(), PartnerRole.ADMIN)
    assert client_for(stranger).get(f"/portal/deals/registrations/{registration.pk}/edit/").status_code == 404


def test_routing_rules_are_hidden_from_channel_managers_with_some_partners(db):
    from django.test import Client

    from partners.access import ParentRole
    from tests.factories import PartnerFactory, parent_user

    granted = PartnerFactory()
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[granted])
    client = Client()
    client.force_login(manager)
    assert client.get("/admin/deals/routingrule/").status_code == 403
    admin_user = parent_user(ParentRole.ADMIN, superuser=True)
    client.force_login(admin_user)
    assert client.get("/admin/deals/routingrule/").status_code == 200
