"""Security monitoring: failed logins and lockouts (django-axes), bursts of 403/404 per person,
API tokens used from a new address, exports; for parent admins and the fraud analyst only."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from analytics.models import SecurityEvent, TokenAddress
from partners.access import ParentRole, PartnerRole
from prm.security.tokens import token_issue
from tests.factories import PartnerFactory, parent_user, partner_user

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_failed_logins_and_the_lockout_are_shown(analyst, settings):
    partner_user(PartnerFactory(), PartnerRole.REP, username="target")
    api = APIClient(REMOTE_ADDR="10.9.8.7")
    codes = [
        api.post("/api/v1/auth/token/", {"username": "target", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT + 1)
    ]
    assert codes[0] == 400 and codes[-1] == 429
    page = client_for(analyst).get("/portal/analytics/security/").content.decode()
    assert "target" in page and "10.9.8.7" in page and "yes" in page


def test_bursts_of_refusals_per_person(analyst, partner_a, rep_a):
    client = client_for(rep_a)
    for n in range(20):
        assert client.get(f"/portal/deals/registrations/{90000 + n}/").status_code == 404
    assert SecurityEvent.objects.filter(kind="not_found", user=rep_a, partner=partner_a).count() == 20
    page = client_for(analyst).get("/portal/analytics/security/").content.decode()
    assert "alpha-rep" in page
    # One or two misses are no burst.
    quiet = partner_user(partner_a, PartnerRole.REP, username="quiet-rep")
    client_for(quiet).get("/portal/deals/registrations/99999/")
    assert "quiet-rep" not in client_for(analyst).get("/portal/analytics/security/").content.decode()


def test_token_use_from_a_new_address(analyst, rep_a):
    _, key = token_issue(user=rep_a)
    home = APIClient(REMOTE_ADDR="192.0.2.1")
    home.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert home.get("/api/v1/me/").status_code == 200
    assert home.get("/api/v1/me/").status_code == 200
    assert not SecurityEvent.objects.filter(kind="new_token_address").exists()
    away = APIClient(REMOTE_ADDR="198.51.100.9")
    away.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert away.get("/api/v1/me/").status_code == 200
    [event] = SecurityEvent.objects.filter(kind="new_token_address")
    assert event.user == rep_a and event.ip_address == "198.51.100.9"
    assert TokenAddress.objects.filter(user=rep_a).count() == 2
    assert "198.51.100.9" in client_for(analyst).get("/portal/analytics/security/").content.decode()
    # A session is not a token: no address is recorded for it.
    client_for(rep_a).get("/portal/")
    assert TokenAddress.objects.filter(user=rep_a).count() == 2


def test_exports_are_watched_and_the_page_is_for_admins_and_analysts(analyst, parent_admin):
    client_for(parent_admin).get("/portal/analytics/audit/?export=audit")
    page = client_for(analyst).get("/portal/analytics/security/?hours=24").content.decode()
    assert "/portal/analytics/audit/?export=audit" in page
    csv = client_for(analyst).get("/portal/analytics/security/?export=exports")
    assert csv.status_code == 200 and "audit" in csv.content.decode()
    for role in (ParentRole.FINANCE, ParentRole.CHANNEL_MANAGER, ParentRole.SALES):
        assert client_for(parent_user(role)).get("/portal/analytics/security/").status_code == 404
