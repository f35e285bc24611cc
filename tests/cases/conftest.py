import pytest

from partners.access import ParentRole, PartnerRole
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def parent_support(db):
    return parent_user(ParentRole.SUPPORT, username="psupport", email="psupport@example.test")


def make_partner(business_model, **kwargs):
    return PartnerFactory(business_model=business_model, **kwargs)


def people(partner):
    """An agent (support), a rep and the rep's customer."""
    agent = partner_user(partner, PartnerRole.SUPPORT)
    rep = partner_user(partner, PartnerRole.REP)
    return agent, rep, customer_of(partner, owner=rep)
