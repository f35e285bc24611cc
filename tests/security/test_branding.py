"""Item 3 of issue 14: a white-label partner's people never meet the parent's brand: not in any email
(sender, subject, body, footer), not on the pages before login (login, set password, reset)."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from deals import services as deal_services
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.branding import BRAND_COOKIE
from tests.conftest import api_as
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.deals import registration_of

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "partners@helios.example"


@pytest.fixture
def wingtip(db):
    return PartnerFactory(
        slug="wingtip", name="Wingtip Toys Ltd", display_name="Wingtip Cloud", business_model=BusinessModel.WHITE_LABEL
    )


@pytest.fixture
def wingtip_admin(wingtip):
    return partner_user(wingtip, PartnerRole.ADMIN, username="wingtip-admin", email="admin@wingtip.example")


def parent_marks():
    return [settings.PARENT_COMPANY_NAME, "helios"]


def assert_no_parent_brand(message):
    text = " ".join([message.from_email, message.subject, message.body, *message.to]).lower()
    for mark in parent_marks():
        assert mark.lower() not in text, (mark, message.from_email, message.subject, message.body)
    assert "Wingtip Cloud" in message.from_email and "Wingtip Cloud" in message.subject


def test_invitation_email_of_a_white_label_partner(wingtip_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(wingtip_admin).post("/api/v1/partner-users/", {"username": "eve", "email": "eve@w.example"})
    assert response.status_code == 201
    (message,) = mail.outbox
    assert_no_parent_brand(message)
    assert "Wingtip Cloud partner portal" in message.body  # the footer


def test_password_reset_email_of_a_white_label_user(wingtip_admin):
    response = Client().post("/portal/password/reset/", {"email": "admin@wingtip.example"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert_no_parent_brand(message)


def test_password_reset_email_of_another_partner_keeps_the_parents_brand(db):
    partner_user(PartnerFactory(slug="alpha"), PartnerRole.ADMIN, email="a@alpha.example")
    Client().post("/portal/password/reset/", {"email": "a@alpha.example"})
    (message,) = mail.outbox
    assert message.from_email.endswith("partners@helios.example") and settings.PARENT_COMPANY_NAME in message.subject


def test_registration_expiry_warning_of_a_white_label_rep(wingtip, django_capture_on_commit_callbacks):
    rep = partner_user(wingtip, PartnerRole.REP, username="wingtip-rep", email="rep@wingtip.example")
    registration = registration_of(rep)
    deal_services.deal_registration_approve(user=parent_user(ParentRole.SALES), registration=registration)
    registration.refresh_from_db()
    registration.protected_until = timezone.now() + datetime.timedelta(days=3)
    registration.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert deal_services.deal_registration_warn_expiry(registration_id=registration.pk)
    (message,) = mail.outbox
    assert_no_parent_brand(message)


def test_case_sla_warning_of_a_white_label_agent(wingtip, django_capture_on_commit_callbacks):
    from cases import notices as case_notices
    from cases import services as case_services
    from tests.factories import customer_of

    agent = partner_user(wingtip, PartnerRole.SUPPORT, username="wingtip-agent", email="agent@wingtip.example")
    case = case_services.case_open(
        user=agent, customer=customer_of(wingtip, owner=agent), origin="email", category="technical", subject="Down"
    )
    case.assignee = agent
    case.save()
    with django_capture_on_commit_callbacks(execute=True):
        case_notices.sla_warning(case, "first_response", timezone.now())
    (message,) = mail.outbox
    assert_no_parent_brand(message)


def test_every_email_goes_through_the_branding_module():
    """Lint: a new sender must use partners.branding (send_branded_mail / send_mail_to_users)."""
    pattern = re.compile(r"\b(send_mail|send_mass_mail|EmailMessage|EmailMultiAlternatives|mail_admins)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for app in ("partners", "deals", "quotes", "cases", "mdf", "renewals", "analytics", "prm")
        for path in (ROOT / app).rglob("*.py")
        if path.name != "branding.py" and "migrations" not in path.parts and pattern.search(path.read_text())
    ]
    assert offenders == []


# Pages before login ------------------------------------------------------------------------------


def page_has_no_parent_brand(response):
    page = response.content.decode()
    assert response.status_code == 200
    assert settings.PARENT_COMPANY_NAME not in page and settings.PARENT_COMPANY_LOGO_URL not in page
    assert "Wingtip Cloud" in page


def test_set_password_page_from_the_invitation_shows_only_the_partners_brand(wingtip_admin):
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(wingtip_admin.pk))
    token = default_token_generator.make_token(wingtip_admin)
    response = client.get(f"/portal/password/reset/{uid}/{token}/", follow=True)
    page_has_no_parent_brand(response)
    # Later pages on that browser (login, reset, the lockout page) stay in the partner's brand.
    for url in ("/portal/login/", "/portal/password/reset/", "/portal/password/reset/done/"):
        page_has_no_parent_brand(client.get(url))


def test_a_forged_set_password_link_does_not_pick_a_brand(wingtip_admin):
    uid = urlsafe_base64_encode(force_bytes(wingtip_admin.pk))
    page = Client().get(f"/portal/password/reset/{uid}/not-a-token/").content.decode()
    assert "Wingtip Cloud" not in page


def test_after_logout_the_login_page_keeps_the_partners_brand(wingtip_admin):
    client = Client()
    client.force_login(wingtip_admin)
    assert client.get("/portal/").status_code == 200
    assert client.cookies[BRAND_COOKIE].value == "wingtip"
    client.post("/portal/logout/")
    page_has_no_parent_brand(client.get("/portal/login/"))


def test_someone_else_signing_in_drops_the_brand(wingtip_admin):
    client = Client()
    client.cookies[BRAND_COOKIE] = "wingtip"
    client.force_login(partner_user(PartnerFactory(slug="alpha"), PartnerRole.ADMIN))
    response = client.get("/portal/")
    assert response.cookies[BRAND_COOKIE].value == ""  # deleted
    assert settings.PARENT_COMPANY_NAME in response.content.decode()
