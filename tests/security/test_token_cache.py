"""An API token's user and actor are cached across requests (issue 13: "the actor cached per request
and per token"), and every change of access takes effect on the very next request: a suspension, a
role change, a deactivation, a revoked grant, a revoked token. The cache is enabled here whatever the
environment (LocMem on the SQLite leg, Redis on the PostgreSQL one)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from partners import services as partner_services
from partners.access import ACCESS_GENERATION_KEY, ParentRole, PartnerRole
from tests.factories import PartnerFactory, parent_user, partner_user

pytestmark = pytest.mark.django_db
PASSWORD = "test-pass-2026"


@pytest.fixture(autouse=True)
def _token_cache(settings):
    settings.API_TOKEN_CACHE_SECONDS = 300


@pytest.fixture
def partner(db):
    return PartnerFactory(slug="alpha")


@pytest.fixture
def other(db):
    return PartnerFactory(slug="beta")


@pytest.fixture
def admin(partner):
    return partner_user(partner, PartnerRole.ADMIN, username="alpha-admin")


@pytest.fixture
def rep(partner):
    return partner_user(partner, PartnerRole.REP, username="alpha-rep")


@pytest.fixture
def boss(db):
    return parent_user(ParentRole.ADMIN, username="boss")


def client_for(username) -> APIClient:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def sql_of(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, [q["sql"] for q in queries]


def test_a_second_request_reads_neither_the_token_nor_the_membership(rep):
    client = client_for("alpha-rep")
    first, first_sql = sql_of(client, "/api/v1/me/")
    second, second_sql = sql_of(client, "/api/v1/me/")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert any("knox_authtoken" in sql for sql in first_sql)
    assert any("partners_membership" in sql for sql in first_sql)
    assert not any("knox_authtoken" in sql or "partners_membership" in sql for sql in second_sql), second_sql


def test_a_wrong_token_is_still_refused(rep):
    client = client_for("alpha-rep")
    assert client.get("/api/v1/me/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    assert client.get("/api/v1/me/").status_code == 401


def test_a_suspension_takes_effect_on_the_next_request(partner, rep, boss):
    client = client_for("alpha-rep")
    assert client.get("/api/v1/partners/").status_code == 200
    partner_services.partner_transition(user=boss, partner=partner, status="suspended", reason="audit")
    assert client.get("/api/v1/partners/").status_code in (401, 403)


def test_a_role_change_takes_effect_on_the_next_request(partner, admin, rep):
    client = client_for("alpha-rep")
    assert client.get("/api/v1/me/").json()["role"] == PartnerRole.REP
    partner_services.membership_update(user=admin, membership=rep.membership, role=PartnerRole.MANAGER)
    assert client.get("/api/v1/me/").json()["role"] == PartnerRole.MANAGER


def test_a_deactivation_takes_effect_on_the_next_request(partner, admin, rep):
    client = client_for("alpha-rep")
    assert client.get("/api/v1/me/").status_code == 200
    partner_services.membership_deactivate(user=admin, membership=rep.membership)
    assert client.get("/api/v1/me/").status_code == 401


def test_a_revoked_grant_takes_effect_on_the_next_request(partner, other, boss):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, username="cm")
    partner_services.partner_manager_grant(user=boss, partner=partner, manager=manager)
    client = client_for("cm")
    assert client.get(f"/api/v1/partners/{partner.pk}/").status_code == 200
    assert client.get(f"/api/v1/partners/{other.pk}/").status_code == 404
    partner_services.partner_manager_revoke(user=boss, partner=partner, manager=manager)
    assert client.get(f"/api/v1/partners/{partner.pk}/").status_code == 404


def test_a_revoked_token_takes_effect_on_the_next_request(rep):
    client = client_for("alpha-rep")
    assert client.get("/api/v1/me/").status_code == 200
    from prm.security import tokens

    assert tokens.tokens_revoke_all(user=rep) == 1  # the portal's "revoke all" on the tokens page
    assert client.get("/api/v1/me/").status_code == 401


def test_a_change_bumps_the_generation_again_after_its_commit(partner, admin, rep, django_capture_on_commit_callbacks):
    """An entry cached between the change and its commit (from the rows before it) is not trusted."""
    client = client_for("alpha-rep")
    client.get("/api/v1/me/")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        partner_services.membership_update(user=admin, membership=rep.membership, role=PartnerRole.MANAGER)
    during = cache.get(ACCESS_GENERATION_KEY)
    for callback in callbacks:
        callback()
    assert cache.get(ACCESS_GENERATION_KEY) != during


def test_a_lost_generation_trusts_no_entry(rep):
    client = client_for("alpha-rep")
    client.get("/api/v1/me/")
    cache.delete(ACCESS_GENERATION_KEY)  # a cache restart, an eviction
    _, sql = sql_of(client, "/api/v1/me/")
    assert any("knox_authtoken" in q for q in sql)


def test_a_login_elsewhere_keeps_the_cache_and_a_real_change_does_not(rep):
    """Signing in stamps `last_login` only: other people's cached tokens stay valid. Any other save
    of a person still starts a new generation."""
    client = client_for("alpha-rep")
    client.get("/api/v1/me/")
    before = cache.get(ACCESS_GENERATION_KEY)
    partner_user(rep.membership.partner, PartnerRole.ADMIN, username="alpha-admin")  # a new person
    after_new_person = cache.get(ACCESS_GENERATION_KEY)
    assert after_new_person != before
    client.get("/api/v1/me/")  # cached again, under the new generation
    assert APIClient().post("/api/v1/auth/token/", {"username": "alpha-admin", "password": PASSWORD}).status_code == 200
    from django.contrib.auth.models import update_last_login

    update_last_login(None, rep)  # what every sign-in does
    assert cache.get(ACCESS_GENERATION_KEY) == after_new_person
    _, sql = sql_of(client, "/api/v1/me/")
    assert not any("knox_authtoken" in q for q in sql)
    rep.first_name = "Renamed"
    rep.save()
    assert cache.get(ACCESS_GENERATION_KEY) != after_new_person
