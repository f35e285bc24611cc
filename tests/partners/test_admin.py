import pytest
from django.test import Client

from partners.access import ParentRole, PartnerRole
from partners.models import AuditEvent, Partner, PartnerStatus
from tests.factories import PartnerFactory, parent_user, partner_user

pytestmark = pytest.mark.django_db


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_channel_manager_sees_only_their_partners_in_admin(partner_a, partner_b):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    client = admin_client(manager)
    body = client.get("/admin/partners/partner/").content.decode()
    assert "Alpha Partners" in body and "Bravo Partners" not in body
    assert client.get(f"/admin/partners/partner/{partner_a.pk}/change/").status_code == 200
    response = client.get(f"/admin/partners/partner/{partner_b.pk}/change/")
    assert response.status_code == 302  # the admin's "does not exist" redirect, revealing nothing


def test_admin_suspend_action_goes_through_the_service(parent_admin, partner_a, partner_b):
    client = admin_client(parent_admin)
    response = client.post(
        "/admin/partners/partner/",
        {"action": "suspend", "_selected_action": [partner_a.pk, partner_b.pk]},
    )
    assert response.status_code == 302
    assert set(Partner.objects.values_list("status", flat=True)) == {PartnerStatus.SUSPENDED}
    assert AuditEvent.objects.filter(verb="partner.suspended").count() == 2


def test_admin_action_refuses_illegal_move(parent_admin):
    partner = PartnerFactory(status=PartnerStatus.TERMINATED)
    admin_client(parent_admin).post(
        "/admin/partners/partner/", {"action": "activate", "_selected_action": [partner.pk]}
    )
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.TERMINATED


def test_admin_filters_and_search(parent_admin, partner_a, partner_b):
    client = admin_client(parent_admin)
    body = client.get("/admin/partners/partner/?business_model__exact=dual").content.decode()
    assert "Bravo Partners" in body and "Alpha Partners" not in body
    body = client.get("/admin/partners/partner/?q=alpha").content.decode()
    assert "Alpha Partners" in body and "Bravo Partners" not in body


def test_partner_users_cannot_use_admin(partner_a):
    user = partner_user(partner_a, PartnerRole.ADMIN)
    response = admin_client(user).get("/admin/partners/partner/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_add_partner_applies_preset(parent_admin):
    client = admin_client(parent_admin)
    assert client.get("/admin/partners/partner/add/").status_code == 200
    data = {
        "name": "Admin Made",
        "slug": "admin-made",
        "business_model": "referral",
        "country": "US",
        "credit_limit": "1000.00",
        "brand_color": "",
    }
    for prefix in ("agreement", "territories", "memberships"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = client.post("/admin/partners/partner/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    partner = Partner.objects.get(slug="admin-made")
    assert partner.agreement.commission_model == "on_referral"
    assert AuditEvent.objects.filter(verb="partner.create", object_id=str(partner.pk)).exists()


def test_partner_filters_list_only_visible_partners(partner_a, partner_b):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    partner_user(partner_a, PartnerRole.REP)
    partner_user(partner_b, PartnerRole.REP)
    body = admin_client(manager).get("/admin/partners/membership/").content.decode()
    assert "Alpha Partners" in body and "Bravo Partners" not in body


def test_program_tiers_are_saved_through_the_audited_service(parent_admin):
    from partners.models import ProgramTier

    response = admin_client(parent_admin).post(
        "/admin/partners/programtier/add/",
        {"name": "Diamond", "rank": 9, "protection_days": 120, "lead_accept_hours": 48, "routing_weight": 8},
    )
    assert response.status_code == 302
    tier = ProgramTier.objects.get(name="Diamond")
    event = AuditEvent.objects.get(verb="partners.programtier.create", object_id=str(tier.pk))
    assert event.actor == parent_admin and event.changes["rank"] == [None, 9]


def _form_data(html):
    """The values a browser would submit from the admin change form."""
    import re
    from html import unescape

    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or re.search(r'type="(submit|checkbox|file)"', tag):
            if name and 'type="checkbox"' in tag and "checked" in tag:
                data[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
        if selected:
            data[name] = selected[0]
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = unescape(body.strip())
    return data


def test_admin_agreement_override_goes_through_the_service(parent_admin, partner_a):
    client = admin_client(parent_admin)
    url = f"/admin/partners/partner/{partner_a.pk}/change/"
    data = _form_data(client.get(url).content.decode())
    assert data["agreement-0-service_model"] == "partner_only"
    data["agreement-0-service_model"] = "either"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    partner_a.agreement.refresh_from_db()
    assert partner_a.agreement.service_model == "either"
    event = AuditEvent.objects.get(verb="agreement.override")
    assert event.changes == {"service_model": ["partner_only", "either"]} and event.actor == parent_admin


def test_parent_role_groups_get_every_apps_permissions_after_one_migrate(db):
    from django.contrib.auth.models import Group

    support = Group.objects.get(name=ParentRole.SUPPORT)
    assert support.permissions.filter(content_type__app_label="cases", codename="change_case").exists()
    finance = Group.objects.get(name=ParentRole.FINANCE)
    assert finance.permissions.filter(content_type__app_label="quotes", codename="change_order").exists()
    assert not finance.permissions.filter(codename="manage_partner").exists()
