"""Every admin page a parent admin can open renders, and an empty add form is a form error, not a 500."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from partners.access import ParentRole
from tests.factories import parent_user

MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"partners", "deals", "quotes", "cases"}
)


@pytest.mark.django_db
@pytest.mark.parametrize("app_label, model_name", MODELS)
def test_admin_changelist_and_empty_add(app_label, model_name):
    client = Client(raise_request_exception=True)
    client.force_login(parent_user(ParentRole.ADMIN, superuser=True))
    assert client.get(reverse(f"admin:{app_label}_{model_name}_changelist")).status_code == 200
    add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert add.status_code in (200, 403)
    if add.status_code == 200:
        response = client.post(reverse(f"admin:{app_label}_{model_name}_add"), {})
        assert response.status_code == 200  # the form again, with its errors
        assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()
