"""Whose brand a person meets: the parent's, or, for a white-label partner's people, only their partner's.

One place for pages (the context processor, the partner's own sign-in page, the pages before login,
the error pages, the favicon) and for every email (sender, subject, body and footer):
`send_branded_mail` is the only way the project sends mail (tests/security/test_branding.py fails on
a `send_mail` anywhere else)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMessage
from django.templatetags.static import static
from django.urls import reverse

# Remembers, across logout, that this browser belongs to a white-label partner's person, so the
# login and password pages they meet next carry their partner's brand.
BRAND_COOKIE = "prm_brand"
BRAND_COOKIE_AGE = 180 * 24 * 3600
PARENT_COLOR = "#1a5fb4"


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str
    color: str
    from_email: str
    partner_slug: str = ""  # set for a white-label partner's brand
    favicon_url: str = ""
    login_url: str = ""

    @property
    def is_parent(self) -> bool:
        return not self.partner_slug

    @property
    def white_label(self) -> bool:
        return bool(self.partner_slug)

    @property
    def parent_company_name(self) -> str:
        """The parent's name where this brand may show it, else empty."""
        return settings.PARENT_COMPANY_NAME if self.is_parent else ""


def parent_brand() -> Brand:
    return Brand(
        name=settings.PARENT_COMPANY_NAME,
        logo_url=settings.PARENT_COMPANY_LOGO_URL,
        color=PARENT_COLOR,
        from_email=settings.DEFAULT_FROM_EMAIL,
        favicon_url=static("img/favicon.svg"),
        login_url=reverse("portal:login"),
    )


def hides_parent(partner) -> bool:
    return partner is not None and not partner.agreement.parent_brand_visible


def brand_of_partner(partner, *, signed_in: bool = True) -> Brand:
    """A white-label partner's own brand; every other partner's people see the parent's. Its logo is
    shown to signed-in people only (logos are streamed after an access check)."""
    if not hides_parent(partner):
        return parent_brand()
    address = getattr(settings, "WHITE_LABEL_FROM_EMAIL", "no-reply@partner-portal.example")
    return Brand(
        name=partner.brand_name,
        logo_url=partner.logo_url if signed_in else "",
        color=partner.brand_color or "#333333",
        from_email=formataddr((partner.brand_name, address)),
        partner_slug=partner.slug,
        favicon_url=reverse("portal:partner-favicon", args=[partner.slug]),
        login_url=reverse("portal:partner-login", args=[partner.slug]),
    )


def partner_for_slug(slug: str):
    """The partner a sign-in page or brand cookie names (None if unknown or terminated)."""
    from .models import Partner

    if not slug:
        return None
    return (
        Partner.objects.select_related("agreement")  # scope-lint: ok (a public sign-in page, brand only)
        .exclude(status="terminated")
        .filter(slug=slug[:60])
        .first()
    )


def partner_of_user(user):
    membership = getattr(user, "membership", None) if user is not None and getattr(user, "pk", None) else None
    return membership.partner if membership is not None else None


def brand_of_user(user) -> Brand:
    from .access import actor_of

    # The signed-in caller's actor is cached per request, with its partner and agreement already loaded.
    actor = actor_of(user)
    if actor.partner is not None:
        return brand_of_partner(actor.partner)
    if actor.is_parent:
        return parent_brand()
    return brand_of_partner(partner_of_user(user))  # not signed in: the person of a set-password link


def _user_of_reset_link(request):
    """The person a valid set-password link is for (the invitation and the reset email lead there)."""
    match = getattr(request, "resolver_match", None)
    if match is None or "uidb64" not in match.kwargs:
        return None
    from django.contrib.auth import get_user_model
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_decode

    try:
        uid = urlsafe_base64_decode(match.kwargs["uidb64"]).decode()
        user = get_user_model()._default_manager.get(pk=uid)
    except (TypeError, ValueError, OverflowError, UnicodeError, get_user_model().DoesNotExist):
        return None
    token = match.kwargs.get("token", "")
    if token == "set-password":  # Django swaps the real token into the session first
        token = request.session.get("_password_reset_token", "")
    return user if default_token_generator.check_token(user, token) else None


def brand_for_request(request) -> Brand:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return brand_of_user(user)
    link_user = _user_of_reset_link(request)
    if link_user is not None:
        return brand_of_user(link_user)
    # The partner sign-in page being shown, or the one this browser last used.
    slug = getattr(request, "brand_slug", "") or request.COOKIES.get(BRAND_COOKIE, "")
    partner = partner_for_slug(slug)
    if partner is not None:
        return brand_of_partner(partner, signed_in=False)
    return parent_brand()


def remember_brand(response, brand: Brand):
    if brand.partner_slug:
        response.set_cookie(
            BRAND_COOKIE,
            brand.partner_slug,
            max_age=BRAND_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=not settings.DEBUG,
        )
    return response


class BrandCookieMiddleware:
    """Set the brand cookie once a white-label partner's person is known (signed in, or on their
    set-password link); drop it when someone else signs in on the browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        known = user if user is not None and user.is_authenticated else _user_of_reset_link(request)
        if known is not None:
            brand = brand_of_user(known)
            if brand.partner_slug:
                if request.COOKIES.get(BRAND_COOKIE) != brand.partner_slug:
                    remember_brand(response, brand)
            elif BRAND_COOKIE in request.COOKIES:
                response.delete_cookie(BRAND_COOKIE)
        return response


def footer(brand: Brand) -> str:
    return f"\n\n--\n{brand.name} partner portal"


def send_branded_mail(*, brand: Brand, subject: str, body: str, recipients, fail_silently=False) -> int:
    """The project's one way to send mail: the sender and the footer are the brand's, and the subject
    is prefixed with it."""
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    message = EmailMessage(
        subject=f"[{brand.name}] {subject}".replace("\n", " "),
        body=body + footer(brand),
        from_email=brand.from_email,
        to=recipients,
    )
    return message.send(fail_silently=fail_silently)


def send_mail_to_users(*, users, subject: str, body: str, fail_silently=False) -> int:
    """Each recipient gets the mail in their own brand (a parent agent and a white-label agent on the
    same case each see only theirs)."""
    groups: dict[Brand, list[str]] = {}
    for user in users:
        if getattr(user, "email", ""):
            groups.setdefault(brand_of_user(user), []).append(user.email)
    return sum(
        send_branded_mail(brand=brand, subject=subject, body=body, recipients=emails, fail_silently=fail_silently)
        for brand, emails in groups.items()
    )


def render_branded_mail(*, brand: Brand, subject_template: str, body_template: str, context: dict, recipients) -> int:
    from django.template import loader

    context = {**context, "site_name": brand.name, "brand": brand}
    subject = "".join(loader.render_to_string(subject_template, context).splitlines())
    body = loader.render_to_string(body_template, context)
    return send_branded_mail(brand=brand, subject=subject, body=body, recipients=recipients)


class BrandedPasswordResetForm(PasswordResetForm):
    """Password reset mail in the person's own brand (a white-label partner's people never get the parent's)."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        render_branded_mail(
            brand=brand_of_user(context["user"]),
            subject_template=subject_template_name,
            body_template=email_template_name,
            context=context,
            recipients=[to_email],
        )


def favicon_svg(partner) -> str:
    """A small icon in the partner's colour with its initial, for its tabs and bookmarks."""
    from django.utils.html import escape

    initial = escape((partner.brand_name or "?")[:1].upper())
    color = escape(partner.brand_color or "#333333")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="7" fill="{color}"/>'
        '<text x="16" y="22" font-family="system-ui, sans-serif" font-size="18" font-weight="700" '
        f'text-anchor="middle" fill="#fff">{initial}</text></svg>'
    )
