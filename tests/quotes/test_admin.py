from decimal import Decimal

import pytest
from django.test import Client

from partners.access import ParentRole
from partners.models import AuditEvent
from quotes.models import BusinessRule, DiscountSchedule, Order, ProvisioningRequest
from tests.factories import customer_of, parent_user
from tests.factories.quotes import BusinessRuleFactory, order_with_line, quote_with_line
from tests.quotes.conftest import make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(parent_user(ParentRole.ADMIN, superuser=True, username="root"))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "product",
        "pricebook",
        "discountschedule",
        "partnerprice",
        "businessrule",
        "quote",
        "order",
        "provisioningrequest",
    ],
)
def test_admin_pages_load(admin_client, seller, catalogue, model):
    quote_with_line(seller["partner"], seller["customer"], product=catalogue["vm"])
    order = order_with_line(seller["partner"], seller["customer"], status="in_review")
    assert admin_client.get(f"/admin/quotes/{model}/").status_code == 200
    if model == "order":
        assert admin_client.get(f"/admin/quotes/order/{order.pk}/change/").status_code == 200
        assert admin_client.get("/admin/quotes/order/?queue=review").status_code == 200
    if model == "pricebook":
        assert admin_client.get(f"/admin/quotes/pricebook/{catalogue['book'].pk}/change/").status_code == 200


def test_review_queue_actions_approve_and_decline(admin_client, seller, catalogue, django_capture_on_commit_callbacks):
    first = order_with_line(seller["partner"], seller["customer"], status="in_review")
    second = order_with_line(seller["partner"], seller["customer"], status="in_review")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/quotes/order/", {"action": "approve_orders", "_selected_action": [first.pk], "reason": ""}
        )
    first.refresh_from_db()
    assert first.status == "fulfilled"
    assert ProvisioningRequest.objects.get(order=first).status == "done"
    # Declining without a reason is refused with a message; with one it is recorded.
    admin_client.post(
        "/admin/quotes/order/", {"action": "decline_orders", "_selected_action": [second.pk], "reason": ""}
    )
    second.refresh_from_db()
    assert second.status == "in_review"
    admin_client.post(
        "/admin/quotes/order/", {"action": "decline_orders", "_selected_action": [second.pk], "reason": "Fraud risk"}
    )
    second.refresh_from_db()
    assert (second.status, second.decline_reason) == ("declined", "Fraud risk")


def test_channel_manager_admin_sees_only_granted_orders(seller, catalogue):
    other = make_partner(catalogue, slug="zulu")
    mine = order_with_line(seller["partner"], seller["customer"], status="in_review")
    hidden = order_with_line(other, customer_of(other), status="in_review")
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[seller["partner"]])
    client = Client()
    client.force_login(manager)
    from django.contrib.auth.models import Permission

    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="quotes"))
    html = client.get("/admin/quotes/order/").content.decode()
    assert mine.number in html and hidden.number not in html
    assert client.get(f"/admin/quotes/order/{hidden.pk}/change/").status_code in (302, 404)
    assert Order.objects.get(pk=hidden.pk).status == "in_review"


def test_business_rules_and_schedules_are_edited_in_admin_and_audited(admin_client, catalogue):
    response = admin_client.post(
        "/admin/quotes/businessrule/add/",
        {
            "name": "Big orders",
            "kind": "order_value_limit",
            "severity": "review",
            "active": "on",
            "position": "10",
            "description": "",
            "threshold": "25000",
            "min_quantity": "",
            "max_quantity": "",
            "product_line": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = BusinessRule.objects.get(name="Big orders")
    assert rule.threshold == Decimal("25000")
    assert AuditEvent.objects.filter(verb="quotes.businessrule.create").exists()
    schedule = DiscountSchedule.objects.first()
    response = admin_client.post(
        f"/admin/quotes/discountschedule/{schedule.pk}/change/",
        {"tier": schedule.tier_id, "product_line": schedule.product_line_id, "max_discount_percent": "101"},
    )
    assert response.status_code == 200  # the form shows the error
    schedule.refresh_from_db()
    assert schedule.max_discount_percent == Decimal("15.00")


def test_rule_min_above_max_is_refused_by_the_database_constraint(catalogue):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessRuleFactory(kind="quantity_limits", min_quantity=10, max_quantity=5)


def test_withdrawing_products_in_admin_is_audited(db):
    from django.test import Client

    from partners.access import ParentRole
    from partners.models import AuditEvent
    from quotes.models import Product
    from tests.factories import ProductFactory, parent_user

    products = ProductFactory.create_batch(2)
    client = Client()
    client.force_login(parent_user(ParentRole.ADMIN, superuser=True))
    response = client.post(
        "/admin/quotes/product/", {"action": "deactivate", "_selected_action": [p.pk for p in products]}
    )
    assert response.status_code == 302
    assert not Product.objects.filter(active=True).exists()
    assert AuditEvent.objects.filter(verb="quotes.product.update").count() == 2


def test_product_admin_refuses_staff_without_pricing_role(db):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from partners.access import ParentRole
    from quotes.models import Product
    from tests.factories import ProductFactory, parent_user

    product = ProductFactory()
    staff = parent_user(ParentRole.SUPPORT)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_product", "change_product"]))
    client = Client()
    client.force_login(staff)
    client.post("/admin/quotes/product/", {"action": "deactivate", "_selected_action": [product.pk]})
    assert Product.objects.get(pk=product.pk).active
