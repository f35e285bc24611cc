"""seed_demo is a contract (product.md): slugs, usernames, the password, idempotence, DEBUG guard."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from partners.access import actor_of
from partners.models import AuditEvent, Customer, Partner

SLUGS = {
    "northwind": "referral",
    "contoso": "registration_parent",
    "fabrikam": "registration_retention",
    "tailspin": "dual",
    "wingtip": "white_label",
}
PARENT_USERS = ["parent-admin", "channel-manager", "parent-support", "parent-finance", "fraud-analyst"]


def login_request():
    # django-axes checks every authentication against the request it came with.
    return RequestFactory().post("/portal/login/")


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)


def test_demo_channel_matches_the_contract(seeded):
    assert dict(Partner.objects.values_list("slug", "business_model")) == SLUGS
    User = get_user_model()
    for slug in SLUGS:
        for suffix in ("admin", "rep", "support"):
            username = f"{slug}-{suffix}"
            user = authenticate(login_request(), username=username, password="demo-pass-2026")
            assert user is not None, username
            actor = actor_of(user)
            assert actor.is_partner and actor.partner.slug == slug
    for username in PARENT_USERS:
        user = authenticate(login_request(), username=username, password="demo-pass-2026")
        assert user is not None and user.is_staff and actor_of(user).is_parent, username
    assert User.objects.get(username="parent-admin").is_superuser
    assert Customer.objects.count() >= 10


def test_seed_demo_is_idempotent(seeded):
    counts = (Partner.objects.count(), Customer.objects.count(), get_user_model().objects.count())
    events = AuditEvent.objects.count()
    call_command("seed_demo", verbosity=0)
    assert (Partner.objects.count(), Customer.objects.count(), get_user_model().objects.count()) == counts
    assert AuditEvent.objects.count() == events


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", verbosity=0)
    assert not Partner.objects.exists()
