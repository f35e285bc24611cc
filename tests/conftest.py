import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from tests.factories import PartnerFactory, parent_user, partner_user

# Every partner role, and every business model: the isolation matrix runs over both.
PARTNER_ROLES = list(PartnerRole.values)
BUSINESS_MODELS = list(BusinessModel.values)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at production strength costs ~0.3 s per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run inline in tests, also on the PostgreSQL + Redis leg where settings point at a broker:
    a test checks what a task does. Tests marked `integration` talk to a real worker instead."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    from prm.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; tests must not inherit each other's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def partner_a(db):
    return PartnerFactory(slug="alpha", name="Alpha Partners", business_model=BusinessModel.REGISTRATION_RETENTION)


@pytest.fixture
def partner_b(db):
    return PartnerFactory(slug="bravo", name="Bravo Partners", business_model=BusinessModel.DUAL)


@pytest.fixture
def parent_admin(db):
    return parent_user(ParentRole.ADMIN, superuser=True, username="padmin")


@pytest.fixture
def admin_a(partner_a):
    return partner_user(partner_a, PartnerRole.ADMIN, username="alpha-admin")


@pytest.fixture
def rep_a(partner_a):
    return partner_user(partner_a, PartnerRole.REP, username="alpha-rep")
