"""The parent's admin: business apps before technical ones, a dashboard of what waits for review,
readable registration lines, and the partner page's sections collapsed."""

import re

import pytest

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from tests.factories import PartnerFactory, ProductFactory, parent_user, partner_user
from tests.factories.deals import registration_of

pytestmark = pytest.mark.django_db


def test_admin_index_puts_business_first_and_counts_what_waits(client, parent_admin):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    registration_of(partner_user(partner, PartnerRole.REP))
    client.force_login(parent_admin)
    page = client.get("/admin/").content.decode()
    assert "Waiting for review" in page
    row = re.search(r"Deal registrations to decide</a></th><td>(\d+)</td>", page)
    assert row and row.group(1) == "1"
    apps = re.findall(r'<caption>\s*<a href="/admin/(\w+)/"', page)
    business = [a for a in apps if a in ("partners", "deals", "quotes", "cases")]
    assert apps[: len(business)] == business, apps


def test_registration_page_names_products_and_partner_page_collapses(client, parent_admin):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    product = ProductFactory(name="Backup vault")
    registration = registration_of(partner_user(partner, PartnerRole.REP), products=[product])
    client.force_login(parent_admin)
    page = client.get(f"/admin/deals/dealregistration/{registration.pk}/change/").content.decode()
    assert "Products registered" in page and "Backup vault" in page
    page = client.get(f"/admin/partners/partner/{partner.pk}/change/").content.decode()
    assert page.count("collapse") >= 4


def test_channel_manager_dashboard_counts_only_managed_partners(client):
    mine, other = PartnerFactory(), PartnerFactory()
    registration_of(partner_user(other, PartnerRole.REP))
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[mine])
    client.force_login(manager)
    page = client.get("/admin/").content.decode()
    row = re.search(r"Deal registrations to decide</a></th><td>(\d+)</td>", page)
    assert row and row.group(1) == "0"
