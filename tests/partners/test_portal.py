import pytest
from django.test import Client

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Customer, Membership
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES
from tests.factories import PartnerFactory, customer_of, parent_user, partner_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login():
    for url in ("/portal/", "/portal/customers/", "/portal/team/", "/portal/partners/", "/portal/profile/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/"), url


def test_login_page_and_real_login(partner_a, rep_a):
    client = Client()
    assert client.get("/portal/login/").status_code == 200
    response = client.post("/portal/login/", {"username": "alpha-rep", "password": "test-pass-2026"})
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_portal_customer_pages_hide_other_partners(business_model, role):
    mine = PartnerFactory(business_model=business_model)
    theirs = PartnerFactory()
    user = partner_user(mine, role)
    own = customer_of(mine, owner=user, legal_name="Mine Customer")
    other = customer_of(theirs, legal_name="Secret Customer")
    client = client_for(user)
    listing = client.get("/portal/customers/").content.decode()
    assert "Mine Customer" in listing and "Secret Customer" not in listing
    assert client.get(f"/portal/customers/{own.pk}/").status_code == 200
    assert client.get(f"/portal/customers/{other.pk}/").status_code == 404
    assert client.get(f"/portal/customers/{other.pk}/edit/").status_code == 404
    assert client.post(f"/portal/customers/{other.pk}/edit/", {"legal_name": "X", "country": "US"}).status_code == 404
    assert client.get(f"/portal/partners/{theirs.slug}/").status_code == 404
    stranger = partner_user(theirs, PartnerRole.REP)
    assert client.post(f"/portal/team/{stranger.membership.pk}/", {"is_active": "0"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


def test_home_shows_real_figures(partner_a, admin_a):
    customer_of(partner_a, owner=admin_a, status="active")
    body = client_for(admin_a).get("/portal/").content.decode()
    assert "Welcome, Alpha Partners" in body
    assert "Active customer" in body


def test_profile_describes_agreement_in_words(partner_a, rep_a):
    body = client_for(rep_a).get("/portal/profile/").content.decode()
    assert "Your program lets you" in body
    assert "You own the customer relationship after registration." in body
    assert "Branding" not in body  # only partner admins edit branding


def test_white_label_users_never_see_parent_brand(settings):
    partner = PartnerFactory(business_model=BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud")
    user = partner_user(partner, PartnerRole.ADMIN)
    client = client_for(user)
    for url in ("/portal/", "/portal/profile/", "/portal/customers/", "/portal/team/"):
        body = client.get(url).content.decode()
        assert "Wingtip Cloud" in body, url
        assert settings.PARENT_COMPANY_NAME not in body, url


def test_non_white_label_users_see_parent_brand(settings, partner_a, rep_a):
    assert settings.PARENT_COMPANY_NAME in client_for(rep_a).get("/portal/").content.decode()


def test_partner_admin_invites_from_team_page(partner_a, admin_a, django_capture_on_commit_callbacks, mailoutbox):
    client = client_for(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/team/", {"username": "fresh", "email": "fresh@alpha.test", "role": "marketing"})
    assert response.status_code == 302
    assert Membership.objects.get(user__username="alpha-fresh").role == "marketing"  # the partner's namespace
    assert len(mailoutbox) == 1


def test_team_invite_bad_input_shows_errors(partner_a, admin_a):
    response = client_for(admin_a).post("/portal/team/", {"username": "", "email": "not-an-email"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Membership.objects.count() == 1


def test_rep_cannot_post_invites(partner_a, rep_a):
    response = client_for(rep_a).post("/portal/team/", {"username": "x", "email": "x@x.test", "role": "rep"})
    assert response.status_code == 403


def test_member_deactivate_with_htmx(partner_a, admin_a, rep_a):
    response = client_for(admin_a).post(
        f"/portal/team/{rep_a.membership.pk}/", {"is_active": "0"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Deactivated" in response.content.decode()
    rep_a.refresh_from_db()
    assert rep_a.is_active is False


def test_customer_create_and_edit_in_portal(partner_a, admin_a):
    client = client_for(admin_a)
    response = client.post(
        "/portal/customers/new/", {"legal_name": "Portal Co", "country": "US", "domain": "portal.co"}
    )
    assert response.status_code == 302
    customer = Customer.objects.get(legal_name="Portal Co")
    response = client.post(
        f"/portal/customers/{customer.pk}/edit/",
        {"legal_name": "Portal Company", "country": "US", "domain": "portal.co"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.legal_name == "Portal Company"
    assert AuditEvent.objects.filter(verb="customer.update", object_id=str(customer.pk)).exists()


def test_customer_form_bad_input(partner_a, admin_a):
    response = client_for(admin_a).post("/portal/customers/new/", {"legal_name": "", "country": "Germany"})
    assert response.status_code == 200
    assert not Customer.objects.exists()


def test_customer_search_and_htmx_partial(partner_a, admin_a):
    customer_of(partner_a, owner=admin_a, legal_name="Findme GmbH")
    customer_of(partner_a, owner=admin_a, legal_name="Other Ltd")
    client = client_for(admin_a)
    body = client.get("/portal/customers/?search=findme").content.decode()
    assert "Findme GmbH" in body and "Other Ltd" not in body
    partial = client.get("/portal/customers/?search=findme", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Findme GmbH" in partial


def test_referral_partner_customer_detail_shows_status_only():
    partner = PartnerFactory(business_model=BusinessModel.REFERRAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user, industry="Aviation", domain="air.example")
    body = client_for(user).get(f"/portal/customers/{customer.pk}/").content.decode()
    assert "Aviation" not in body and "air.example" not in body
    assert "status of customers you referred" in body


def test_parent_partner_pages(partner_a, partner_b):
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[partner_a])
    client = client_for(manager)
    body = client.get("/portal/partners/").content.decode()
    assert "Alpha Partners" in body and "Bravo Partners" not in body
    assert client.get("/portal/partners/alpha/").status_code == 200
    assert client.get("/portal/partners/bravo/").status_code == 404
    response = client.post("/portal/partners/alpha/transition/", {"status": "suspended", "reason": "late payments"})
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.status == "suspended"


def test_partner_users_cannot_open_parent_pages(partner_a, admin_a):
    assert client_for(admin_a).get("/portal/partners/").status_code == 404


def test_branding_rejects_scriptable_logo(partner_a, admin_a, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    svg = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>", content_type="image/svg+xml")
    response = client_for(admin_a).post(
        "/portal/profile/", {"display_name": "Alpha", "brand_color": "#112233", "logo": svg}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    partner_a.refresh_from_db()
    assert not partner_a.logo
    png = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    response = client_for(admin_a).post(
        "/portal/profile/", {"display_name": "Alpha", "brand_color": "#112233", "logo": png}
    )
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.logo.name.endswith(".png") and partner_a.display_name == "Alpha"


def test_password_reset_and_change(partner_a, rep_a, mailoutbox):
    rep_a.email = "rep@alpha.test"
    rep_a.save()
    client = Client()
    assert client.post("/portal/password/reset/", {"email": "rep@alpha.test"}).status_code == 302
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/portal/password/reset/" in line)
    path = link[link.index("/portal/") :].strip()
    response = client.get(path, follow=True)
    assert response.status_code == 200
    set_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(set_url, {"new_password1": "An0ther-Secret!", "new_password2": "An0ther-Secret!"})
    assert response.status_code == 302
    response = client.post("/portal/login/", {"username": "alpha-rep", "password": "An0ther-Secret!"})
    assert response.status_code == 302
    response = client.post(
        "/portal/password/change/",
        {"old_password": "An0ther-Secret!", "new_password1": "Third-Secret-99", "new_password2": "Third-Secret-99"},
    )
    assert response.status_code == 302
    assert client.post("/portal/logout/").status_code == 302
    assert client.get("/portal/").status_code == 302


def test_logo_is_served_through_the_access_policy(partner_a, partner_b, admin_a, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = str(tmp_path)
    partner_b.logo.save("b.png", ContentFile(b"\x89PNG\r\n\x1a\nbravo"))
    partner_a.logo.save("a.png", ContentFile(b"\x89PNG\r\n\x1a\nalpha"))
    client = client_for(admin_a)
    response = client.get("/portal/partners/alpha/logo/")
    assert response.status_code == 200 and b"alpha" in b"".join(response.streaming_content)
    assert client.get("/portal/partners/bravo/logo/").status_code == 404
    assert Client().get("/portal/partners/alpha/logo/").status_code == 302
    assert client.get(f"/media/{partner_a.logo.name}").status_code == 404


def test_repeated_failed_logins_lock_the_account_for_a_while(partner_a, rep_a, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/portal/login/", {"username": "alpha-rep", "password": "wrong"}).status_code == 200
    assert client.post("/portal/login/", {"username": "alpha-rep", "password": "wrong"}).status_code == 429
    locked = client.post("/portal/login/", {"username": "alpha-rep", "password": "test-pass-2026"})
    assert locked.status_code == 429
    # Another account from the same address is not locked.
    other = partner_user(partner_a, PartnerRole.REP, username="alpha-rep2")
    assert client.post("/portal/login/", {"username": other.username, "password": "test-pass-2026"}).status_code == 302
