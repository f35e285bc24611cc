"""The one access policy is not optional: these tests fail when API, portal, admin or selector code
reads a tenant model without `for_user`/`for_partner`, when an API viewset is not scoped, or when a
tenant model is in the admin without the scoped base class."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from partners.access import TenantQuerySet
from partners.admin import ScopedAdmin
from prm.api.base import ScopedViewSetMixin

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = ["partners", "deals", "quotes", "cases", "renewals", "mdf", "analytics"]
# Views that are not about one tenant's rows: who am I, and the token exchange.
UNSCOPED_API_VIEWS = {"MeView", "TokenView"}


def tenant_models():
    return [m for m in apps.get_models() if isinstance(m._default_manager.all(), TenantQuerySet)]


def checked_files():
    for app in DOMAIN_APPS:
        base = ROOT / app
        yield from base.glob("api/*.py")
        for name in ("views.py", "admin.py", "selectors.py"):
            if (base / name).exists():
                yield base / name
        yield from base.glob("views/*.py")


def test_tenant_models_exist():
    names = {m.__name__ for m in tenant_models()}
    assert {"Partner", "Customer", "Membership", "Commission", "AuditEvent"} <= names


def test_no_unscoped_tenant_reads():
    names = "|".join(sorted(m.__name__ for m in tenant_models()))
    unscoped = re.compile(rf"\b({names})\.(objects|_default_manager|_base_manager)\b(?!\.(for_user|for_partner)\()")
    offences = []
    for path in checked_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if unscoped.search(line) and "scope-lint: ok" not in line:
                offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offences, "Read tenant models through for_user/for_partner:\n" + "\n".join(offences)


def _api_views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_api_view_is_scoped():
    unscoped = []
    for route, callback in _api_views(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view is None or view.__name__ in UNSCOPED_API_VIEWS:
            continue
        if not issubclass(view, ScopedViewSetMixin):
            unscoped.append(f"{route} -> {view.__name__}")
    assert not unscoped, unscoped


def test_scoped_viewsets_cannot_override_the_scope():
    with pytest.raises(TypeError):

        class Sneaky(ScopedViewSetMixin):
            def get_queryset(self):
                return None

    with pytest.raises(TypeError):

        class Sneakier(ScopedViewSetMixin):
            def get_object(self):
                return None


def test_tenant_models_in_admin_use_the_scoped_admin():
    offenders = [
        model.__name__
        for model, model_admin in admin.site._registry.items()
        if model in tenant_models() and not isinstance(model_admin, ScopedAdmin)
    ]
    assert not offenders, offenders


def test_lint_catches_an_unscoped_read(tmp_path):
    # The rule itself must be able to fail.
    names = "|".join(sorted(m.__name__ for m in tenant_models()))
    unscoped = re.compile(rf"\b({names})\.(objects|_default_manager|_base_manager)\b(?!\.(for_user|for_partner)\()")
    assert unscoped.search("qs = Customer.objects.filter(pk=1)")
    assert not unscoped.search("qs = Customer.objects.for_user(request.user)")
