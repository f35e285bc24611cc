import datetime
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent, Commission, CustomerRelationship
from quotes import provisioning
from quotes.models import Order, OrderStatus, ProvisioningRequest, RuleKind
from quotes.tasks import provision_order, provision_pending
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import CustomerFactory, customer_of, parent_user, partner_user
from tests.factories.quotes import BusinessRuleFactory, order_with_line
from tests.quotes.conftest import make_partner

pytestmark = pytest.mark.django_db


def vm_line(catalogue, quantity=2, discount="0"):
    return {"product": catalogue["vm"].pk, "quantity": quantity, "discount_percent": discount}


def create_order(client, customer, lines, **fields):
    return client.post("/api/v1/orders/", {"customer": customer.pk, "lines": lines, **fields}, format="json")


def post(client, order_id, action, **data):
    return client.post(f"/api/v1/orders/{order_id}/{action}/", data, format="json")


@pytest.fixture
def all_rules(db):
    """Every rule kind, blocking (the review variants are made per test)."""
    return {
        kind: BusinessRuleFactory(
            name=kind.label, kind=kind, max_quantity=100, min_quantity=1, threshold=Decimal("5000")
        )
        for kind in RuleKind
        if kind not in (RuleKind.FIRST_ORDER_OF_CUSTOMER, RuleKind.ORDER_VALUE_LIMIT)
    }


def submit_new(client, customer, lines, capture=None, **fields):
    order = create_order(client, customer, lines, **fields)
    assert order.status_code == 201, order.json()
    if capture is None:
        return post(client, order.json()["id"], "submit")
    with capture(execute=True):
        response = post(client, order.json()["id"], "submit")
    if response.status_code != 200:
        return response
    # The provisioning task ran after commit: read the order again.
    return client.get(f"/api/v1/orders/{order.json()['id']}/")


# Placement and the happy path ------------------------------------------------------------------------------


def test_direct_order_passes_every_rule_and_is_provisioned_and_fulfilled(
    seller, catalogue, all_rules, django_capture_on_commit_callbacks
):
    client = api_as(seller["user"])
    response = submit_new(
        client, seller["customer"], [vm_line(catalogue, 10)], django_capture_on_commit_callbacks, external_ref="ERP-1"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "fulfilled"
    assert all(result["passed"] for result in body["rule_results"])
    assert len(body["rule_results"]) == len(all_rules)
    assert [e["to_status"] for e in body["events"]] == [
        "draft",
        "submitted",
        "approved",
        "provisioning",
        "fulfilled",
    ]
    line = body["lines"][0]
    assert line["term_start"] and line["term_end"]
    assert line["term_months"] == 12
    assert ProvisioningRequest.objects.get(order_id=body["id"]).status == "done"


def test_order_from_accepted_quote_copies_lines_once(seller, catalogue):
    client = api_as(seller["user"])
    quote = client.post(
        "/api/v1/quotes/", {"customer": seller["customer"].pk, "lines": [vm_line(catalogue, 3, "10")]}, format="json"
    ).json()
    refused = client.post("/api/v1/orders/", {"quote": quote["id"]}, format="json")
    assert refused.status_code == 400
    assert "quote" in refused.json()
    client.post(f"/api/v1/quotes/{quote['id']}/send/")
    client.post(f"/api/v1/quotes/{quote['id']}/accept/")
    order = client.post("/api/v1/orders/", {"quote": quote["id"]}, format="json")
    assert order.status_code == 201, order.json()
    assert order.json()["total"] == quote["total"] == "121.50"
    assert order.json()["source"] == "quote"
    again = client.post("/api/v1/orders/", {"quote": quote["id"]}, format="json")
    assert again.status_code == 400
    assert Order.objects.count() == 1
    # An order from a quote keeps the quote's lines.
    patched = client.patch(f"/api/v1/orders/{order.json()['id']}/", {"lines": [vm_line(catalogue, 1)]}, format="json")
    assert patched.status_code == 400


def test_duplicate_external_ref_is_400(seller, catalogue):
    client = api_as(seller["user"])
    assert create_order(client, seller["customer"], [vm_line(catalogue)], external_ref="ERP-9").status_code == 201
    again = create_order(client, seller["customer"], [vm_line(catalogue)], external_ref="ERP-9")
    assert again.status_code == 400
    assert "external_ref" in again.json()
    assert Order.objects.count() == 1


# Business rules: each as blocking and as review -------------------------------------------------------------


def violating(kind, seller, catalogue):
    """A customer and lines that break exactly the rule of this kind."""
    partner = seller["partner"]
    customer, lines = seller["customer"], [vm_line(catalogue, 2)]
    if kind == RuleKind.PRODUCT_LINE_AUTHORISED:
        partner.expertise.remove(catalogue["storage"])
        lines = [{"product": catalogue["disk"].pk, "quantity": 5}]
    elif kind == RuleKind.QUANTITY_LIMITS:
        lines = [vm_line(catalogue, 101)]
    elif kind == RuleKind.DISCOUNT_WITHIN_TIER:
        lines = [vm_line(catalogue, 2, "16")]
    elif kind == RuleKind.CUSTOMER_IN_TERRITORY:
        customer = customer_of(partner, owner=seller["user"], country="BR", owner_partner=partner)
    elif kind == RuleKind.CREDIT_LIMIT:
        partner.credit_limit = Decimal("100.00")
        partner.save()
        lines = [vm_line(catalogue, 3)]  # 135.00
    elif kind == RuleKind.CUSTOMER_NOT_OWNED_BY_OTHER:
        other = make_partner(catalogue, slug="owner-elsewhere")
        customer = customer_of(partner, owner=seller["user"], owner_partner=other)
    elif kind == RuleKind.AGREEMENT_ALLOWS_CUSTOMER:
        from partners.services import partner_agreement_update

        partner_agreement_update(
            user=parent_user(ParentRole.ADMIN, superuser=True), partner=partner, order_access="initial_only"
        )
        order_with_line(partner, customer, status="fulfilled")
    elif kind == RuleKind.FIRST_ORDER_OF_CUSTOMER:
        pass  # the seller's customer has no fulfilled order yet
    elif kind == RuleKind.ORDER_VALUE_LIMIT:
        lines = [vm_line(catalogue, 100)]  # 4500.00 > 4000
    return customer, lines


@pytest.mark.parametrize("kind", list(RuleKind))
def test_each_rule_blocks_when_blocking(seller, catalogue, kind):
    BusinessRuleFactory(name="Something else", kind=RuleKind.QUANTITY_LIMITS, max_quantity=100000)
    rule = BusinessRuleFactory(
        name=f"Block {kind}", kind=kind, severity="blocking", max_quantity=100, threshold=Decimal("4000")
    )
    customer, lines = violating(kind, seller, catalogue)
    client = api_as(seller["user"])
    order = create_order(client, customer, lines).json()
    events_before = AuditEvent.objects.count()
    response = post(client, order["id"], "submit")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["failed_rules"] == [rule.name]
    assert rule.name in body["rules"][0]
    assert Order.objects.get(pk=order["id"]).status == "draft"
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("kind", list(RuleKind))
def test_each_rule_sends_to_review_when_review(seller, catalogue, kind):
    rule = BusinessRuleFactory(
        name=f"Review {kind}", kind=kind, severity="review", max_quantity=100, threshold=Decimal("4000")
    )
    customer, lines = violating(kind, seller, catalogue)
    if kind != RuleKind.FIRST_ORDER_OF_CUSTOMER:
        order_with_line(seller["partner"], customer, status="fulfilled")  # not a first order any more
    if kind == RuleKind.AGREEMENT_ALLOWS_CUSTOMER:
        pass
    client = api_as(seller["user"])
    order = create_order(client, customer, lines).json()
    response = post(client, order["id"], "submit")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "in_review"
    assert [r["rule"] for r in body["rule_results"] if not r["passed"]] == [rule.name]
    assert body["review_reasons"][0].startswith(rule.name)


def test_blocking_400_names_every_failed_rule(seller, catalogue, all_rules):
    other = make_partner(catalogue, slug="owner-elsewhere")
    customer = customer_of(seller["partner"], owner=seller["user"], country="BR", owner_partner=other)
    client = api_as(seller["user"])
    order = create_order(client, customer, [vm_line(catalogue, 101, "20")]).json()
    body = post(client, order["id"], "submit").json()
    assert set(body["failed_rules"]) == {
        RuleKind.QUANTITY_LIMITS.label,
        RuleKind.DISCOUNT_WITHIN_TIER.label,
        RuleKind.CUSTOMER_IN_TERRITORY.label,
        RuleKind.CUSTOMER_NOT_OWNED_BY_OTHER.label,
    }


def test_inactive_rules_are_not_evaluated(seller, catalogue):
    BusinessRuleFactory(name="Off", kind=RuleKind.ORDER_VALUE_LIMIT, threshold=Decimal("1"), active=False)
    client = api_as(seller["user"])
    order = create_order(client, seller["customer"], [vm_line(catalogue)]).json()
    assert post(client, order["id"], "submit").json()["status"] in ("approved", "fulfilled")


# The review queue and the order state machine ----------------------------------------------------------------


@pytest.fixture
def in_review(seller, catalogue):
    BusinessRuleFactory(name="First order", kind=RuleKind.FIRST_ORDER_OF_CUSTOMER, severity="review")
    client = api_as(seller["user"])
    order = create_order(client, seller["customer"], [vm_line(catalogue)]).json()
    assert post(client, order["id"], "submit").json()["status"] == "in_review"
    return Order.objects.get(pk=order["id"])


def test_desk_approves_an_order_in_review(in_review, desk, seller, django_capture_on_commit_callbacks):
    assert post(api_as(seller["user"]), in_review.pk, "approve").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_as(desk), in_review.pk, "approve")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert api_as(desk).get(f"/api/v1/orders/{in_review.pk}/").json()["status"] == "fulfilled"


def test_decline_needs_a_reason_which_the_partner_sees(in_review, desk, seller):
    missing = post(api_as(desk), in_review.pk, "decline")
    assert missing.status_code == 400
    assert "reason" in missing.json()
    assert post(api_as(desk), in_review.pk, "decline", reason="Credit check failed").json()["status"] == "declined"
    body = api_as(seller["user"]).get(f"/api/v1/orders/{in_review.pk}/").json()
    assert body["decline_reason"] == "Credit check failed"
    assert body["events"][-1]["reason"] == "Credit check failed"


def test_double_submission_is_one_order_move(seller, catalogue):
    BusinessRuleFactory(name="First order", kind=RuleKind.FIRST_ORDER_OF_CUSTOMER, severity="review")
    client = api_as(seller["user"])
    order = create_order(client, seller["customer"], [vm_line(catalogue)]).json()
    assert post(client, order["id"], "submit").status_code == 200
    second = post(client, order["id"], "submit")
    assert second.status_code == 400
    assert "status" in second.json()
    assert AuditEvent.objects.filter(verb="order.submitted", object_id=str(order["id"])).count() == 1


@pytest.mark.parametrize(
    "status, action, expected",
    [
        ("draft", "cancel", 200),
        ("submitted", "cancel", 200),
        ("in_review", "cancel", 200),
        ("approved", "cancel", 200),
        ("provisioning", "cancel", 400),
        ("fulfilled", "cancel", 400),
        ("declined", "approve", 400),
        ("draft", "approve", 400),
        ("fulfilled", "approve", 400),
        ("cancelled", "submit", 400),
        ("in_review", "submit", 400),
        ("draft", "retry", 400),
        ("fulfilled", "retry", 400),
        ("provisioning", "decline", 400),
        ("fulfilled", "decline", 400),
    ],
)
def test_order_state_machine(seller, catalogue, desk, status, action, expected):
    order = order_with_line(seller["partner"], seller["customer"], created_by=seller["user"], status=status)
    client = api_as(desk if action in ("approve", "retry", "decline") else seller["user"])
    response = post(client, order.pk, action, **({"reason": "x"} if action == "decline" else {}))
    assert response.status_code == expected, response.json()
    order.refresh_from_db()
    assert order.status == ("cancelled" if expected == 200 else status)


# Provisioning -------------------------------------------------------------------------------------------------


def test_provisioning_task_delivered_twice_provisions_once(in_review, desk, monkeypatch):
    calls = []
    original = provisioning.RecordingAdapter.provision

    def counting(self, **kwargs):
        calls.append(kwargs["request"].pk)
        return original(self, **kwargs)

    monkeypatch.setattr(provisioning.RecordingAdapter, "provision", counting)
    post(api_as(desk), in_review.pk, "approve")  # on_commit not run: the task is "in the broker"
    request = ProvisioningRequest.objects.get(order=in_review)
    assert provision_order(request.pk) == "done"
    assert provision_order(request.pk) == "skipped"
    assert provision_pending() == 0
    assert calls == [request.pk]
    in_review.refresh_from_db()
    assert in_review.status == "fulfilled"
    assert Commission.objects.count() == 0  # registration & retention: margin, no commission


def test_lost_task_is_redelivered_by_the_sweeper(in_review, desk, django_capture_on_commit_callbacks):
    post(api_as(desk), in_review.pk, "approve")
    assert provision_pending() == 0  # just written: its task is still in flight
    ProvisioningRequest.objects.filter(order=in_review).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert provision_pending() == 1
    in_review.refresh_from_db()
    assert in_review.status == "fulfilled"


@pytest.fixture
def webhook(settings):
    settings.QUOTES_PROVISIONING_ADAPTER = "webhook"
    settings.QUOTES_PROVISIONING_WEBHOOK_URL = "https://provisioning.example/hook"
    settings.QUOTES_PROVISIONING_WEBHOOK_SECRET = "s3cret"
    settings.QUOTES_PROVISIONING_MAX_ATTEMPTS = 3
    return settings


def test_webhook_posts_signed_json(in_review, desk, webhook, monkeypatch, django_capture_on_commit_callbacks):
    sent = []

    def fake_post(url, body, headers, timeout):
        sent.append((url, body, headers))
        return 202, "accepted"

    monkeypatch.setattr(provisioning, "post_json", fake_post)
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(desk), in_review.pk, "approve")
    assert len(sent) == 1
    url, body, headers = sent[0]
    assert url == "https://provisioning.example/hook"
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-PRM-Signature"] == expected
    event = json.loads(body)
    assert event["event"] == "order.approved"
    assert event["idempotency_key"] == f"order:{in_review.pk}:run:1"
    assert event["order"]["total"] == "90.00"
    in_review.refresh_from_db()
    assert in_review.status == "fulfilled"


def test_webhook_failures_retry_with_backoff_then_fail_and_retry_action_recovers(
    in_review, desk, webhook, monkeypatch, django_capture_on_commit_callbacks
):
    webhook.QUOTES_PROVISIONING_BACKOFF_SECONDS = 0  # eager tasks do not wait for a countdown
    answers = iter([(500, "down"), (503, "down"), (500, "down"), (200, "ok")])
    delays = []
    monkeypatch.setattr(provisioning, "post_json", lambda *args: next(answers))
    original = provision_order.apply_async

    def record_delay(args=None, kwargs=None, countdown=None, **options):
        delays.append(countdown)
        return original(args=args, kwargs=kwargs, countdown=countdown, **options)

    monkeypatch.setattr(provision_order, "apply_async", record_delay)
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(desk), in_review.pk, "approve")
    in_review.refresh_from_db()
    assert in_review.status == "failed"
    assert "500" in in_review.failure_reason
    request = ProvisioningRequest.objects.get(order=in_review)
    assert (request.status, request.attempts) == ("failed", 3)
    assert delays == [None, 0, 0]  # the first delivery, then two retries
    body = api_as(seller_user(in_review)).get(f"/api/v1/orders/{in_review.pk}/").json()
    assert body["status"] == "failed"
    assert post(api_as(seller_user(in_review)), in_review.pk, "retry").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_as(desk), in_review.pk, "retry")
    assert response.status_code == 200
    in_review.refresh_from_db()
    assert in_review.status == "fulfilled"
    assert ProvisioningRequest.objects.filter(order=in_review).count() == 2


def test_backoff_doubles_per_attempt(settings):
    from quotes.services import backoff_seconds

    settings.QUOTES_PROVISIONING_BACKOFF_SECONDS = 30
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def seller_user(order):
    return order.created_by


# Fulfilment effects per agreement -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "business_model, commission, kind",
    [
        (BusinessModel.REGISTRATION_PARENT, Decimal("9.00"), "originating"),
        (BusinessModel.REGISTRATION_RETENTION, None, "servicing"),
        (BusinessModel.DUAL, Decimal("7.20"), "servicing"),
        (BusinessModel.WHITE_LABEL, None, "servicing"),
    ],
)
def test_fulfilment_records_relationship_activates_customer_and_accrues_on_close_commission(
    catalogue, business_model, commission, kind, django_capture_on_commit_callbacks
):
    partner = make_partner(catalogue, business_model)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    client = api_as(user)
    body = submit_new(client, customer, [vm_line(catalogue)], django_capture_on_commit_callbacks).json()
    assert body["status"] == "fulfilled", body
    customer.refresh_from_db()
    assert customer.status == "active"
    assert CustomerRelationship.objects.filter(customer=customer, partner=partner, kind=kind).exists()
    entries = Commission.objects.filter(partner=partner, source="closed_deal")
    if commission is None:
        assert not entries.exists()
    else:
        entry = entries.get()
        # An order placed without an opportunity gets one at fulfilment: every sale is keyed on one.
        opportunity = Order.objects.get(pk=body["id"]).opportunity
        assert opportunity.stage == "closed_won" and opportunity.amount == Decimal("90.00")
        assert entry.source_ref == f"opportunity:{opportunity.pk}"
        assert entry.amount == commission
        assert entry.base_amount == Decimal("90.00")


def test_referral_partner_cannot_order_but_the_parent_orders_its_quote(
    catalogue, desk, django_capture_on_commit_callbacks
):
    partner = make_partner(catalogue, BusinessModel.REFERRAL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user)
    assert create_order(api_as(user), customer, [vm_line(catalogue)]).status_code == 403
    request = api_as(user).post("/api/v1/quotes/", {"customer": customer.pk, "notes": "VMs"}, format="json").json()
    desk_client = api_as(desk)
    desk_client.patch(f"/api/v1/quotes/{request['id']}/", {"lines": [vm_line(catalogue)]}, format="json")
    desk_client.post(f"/api/v1/quotes/{request['id']}/send/")
    desk_client.post(f"/api/v1/quotes/{request['id']}/accept/")
    order = desk_client.post("/api/v1/orders/", {"quote": request["id"]}, format="json")
    assert order.status_code == 201, order.json()
    assert order.json()["placed_by_parent"] is True
    # The referral partner sees its order's status but cannot move it.
    assert post(api_as(user), order.json()["id"], "submit").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert post(desk_client, order.json()["id"], "submit").status_code == 200
    assert Order.objects.get(pk=order.json()["id"]).status == "fulfilled"
    assert not Commission.objects.filter(source="closed_deal").exists()  # referral: paid on referral


@pytest.mark.parametrize(
    "business_model, direct_order",
    [
        (BusinessModel.REFERRAL, 403),
        (BusinessModel.REGISTRATION_PARENT, 201),
        (BusinessModel.REGISTRATION_RETENTION, 201),
        (BusinessModel.DUAL, 201),
        (BusinessModel.WHITE_LABEL, 201),
    ],
)
def test_order_access_per_business_model(catalogue, business_model, direct_order):
    partner = make_partner(catalogue, business_model)
    user = partner_user(partner, PartnerRole.REP)
    customer = customer_of(partner, owner=user)
    assert create_order(api_as(user), customer, [vm_line(catalogue)]).status_code == direct_order


def test_white_label_draft_orders_are_hidden_from_the_parent_until_placed(catalogue, desk):
    partner = make_partner(catalogue, BusinessModel.WHITE_LABEL)
    user = partner_user(partner, PartnerRole.ADMIN)
    customer = customer_of(partner, owner=user, owner_partner=partner)
    BusinessRuleFactory(name="First order", kind=RuleKind.FIRST_ORDER_OF_CUSTOMER, severity="review")
    order = create_order(api_as(user), customer, [vm_line(catalogue)]).json()
    assert api_as(desk).get(f"/api/v1/orders/{order['id']}/").status_code == 404
    post(api_as(user), order["id"], "submit")
    assert api_as(desk).get(f"/api/v1/orders/{order['id']}/").json()["status"] == "in_review"


# Bad input, isolation, query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"lines": [{"product": 0, "quantity": 1}]}, "lines"),
        ({"lines": []}, "lines"),
        ({"customer": None}, "customer"),
        ({"header_discount_percent": "100.01"}, "header_discount_percent"),
        ({"quote": 999999}, "quote"),
        ({"status": "approved"}, "status"),
        ({"rule_results": []}, "rule_results"),
    ],
)
def test_bad_order_input_is_400_and_writes_nothing(seller, catalogue, payload, field):
    data = {"customer": seller["customer"].pk, "lines": [vm_line(catalogue)]} | payload
    response = api_as(seller["user"]).post("/api/v1/orders/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Order.objects.exists()


def test_unpriced_product_is_400(seller, catalogue):
    from tests.factories import ProductFactory

    stray = ProductFactory(product_line=catalogue["compute"])
    response = create_order(api_as(seller["user"]), seller["customer"], [{"product": stray.pk, "quantity": 1}])
    assert response.status_code == 400
    assert "lines" in response.json()
    assert not Order.objects.exists()


ORDER_ACTIONS = ["submit", "approve", "decline", "cancel", "retry"]


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_another_partners_order_is_absent_and_404_for_every_verb(catalogue, business_model, role):
    mine = make_partner(catalogue, business_model)
    theirs = make_partner(catalogue)
    user = partner_user(mine, role)
    own = order_with_line(mine, customer_of(mine, owner=user), created_by=user)
    other = order_with_line(theirs, customer_of(theirs))
    client = api_as(user)
    listed = {row["id"] for row in client.get("/api/v1/orders/?page_size=100").json()["results"]}
    assert own.pk in listed
    assert other.pk not in listed
    url = f"/api/v1/orders/{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.put(url, {"external_ref": "x"}, format="json").status_code == 404
    assert client.patch(url, {"external_ref": "x"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    for action in ORDER_ACTIONS:
        assert client.post(f"{url}{action}/", {"reason": "x"}, format="json").status_code == 404, action
    other.refresh_from_db()
    assert (other.status, other.external_ref) == ("draft", "")


def test_quote_of_another_partner_cannot_be_ordered(seller, catalogue):
    from tests.factories.quotes import quote_with_line

    other = make_partner(catalogue, slug="zulu")
    theirs = quote_with_line(other, customer_of(other), status="accepted")
    response = api_as(seller["user"]).post("/api/v1/orders/", {"quote": theirs.pk}, format="json")
    assert response.status_code == 400
    assert "quote" in response.json()


def test_anonymous_is_401(api):
    assert api.get("/api/v1/orders/").status_code == 401
    assert api.post("/api/v1/orders/1/submit/").status_code == 401


@pytest.mark.parametrize("page_size", [1, 50])
def test_order_list_query_count_is_constant(seller, catalogue, page_size):
    from tests.factories.quotes import OrderLineFactory

    for _ in range(55):
        order = order_with_line(
            seller["partner"], seller["customer"], created_by=seller["user"], product=catalogue["vm"]
        )
        OrderLineFactory(order=order, product=catalogue["disk"])
    client = api_as(seller["user"])
    client.get("/api/v1/orders/?page_size=1")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/orders/?page_size={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    # count, orders (+customer), lines, products, events
    assert len(queries) == 5, [q["sql"] for q in queries]


def test_review_queue_filter_for_the_parent(in_review, desk, seller, catalogue):
    order_with_line(seller["partner"], CustomerFactory(), status="fulfilled")
    body = api_as(desk).get("/api/v1/orders/?status=in_review").json()
    assert [row["id"] for row in body["results"]] == [in_review.pk]
    assert body["results"][0]["review_reasons"]
    assert body["results"][0]["status"] == OrderStatus.IN_REVIEW


def test_early_duplicate_delivery_respects_the_backoff(in_review, desk, webhook, monkeypatch):
    monkeypatch.setattr(provisioning, "post_json", lambda *args: (500, "down"))
    post(api_as(desk), in_review.pk, "approve")
    request = ProvisioningRequest.objects.get(order=in_review)
    assert provision_order(request.pk) == "retry"
    assert provision_order(request.pk) == "not_due"
    request.refresh_from_db()
    assert request.attempts == 1


def test_without_auto_approval_a_clean_order_waits_submitted_for_the_desk(seller, catalogue, desk, settings):
    settings.QUOTES_ORDER_AUTO_APPROVE = False
    client = api_as(seller["user"])
    order = create_order(client, seller["customer"], [vm_line(catalogue)]).json()
    assert post(client, order["id"], "submit").json()["status"] == "submitted"
    assert post(api_as(desk), order["id"], "approve").json()["status"] == "approved"


def test_draft_order_lines_are_replaced_and_totals_recomputed(seller, catalogue):
    client = api_as(seller["user"])
    order = create_order(client, seller["customer"], [vm_line(catalogue)]).json()
    response = client.patch(
        f"/api/v1/orders/{order['id']}/",
        {"lines": [vm_line(catalogue, 4, "12.5")], "header_discount_percent": "1"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["subtotal"] == "157.50"
    assert body["header_discount_amount"] == "1.58"  # 1.575 half-up
    assert body["total"] == "155.92"
    assert AuditEvent.objects.filter(verb="order.update", object_id=str(order["id"])).exists()


def test_parent_desk_places_an_order_for_a_partner(seller, catalogue, desk):
    response = create_order(api_as(desk), seller["customer"], [vm_line(catalogue)], partner=seller["partner"].pk)
    assert response.status_code == 201, response.json()
    assert response.json()["placed_by_parent"] is True
    missing = create_order(api_as(desk), seller["customer"], [vm_line(catalogue)])
    assert missing.status_code == 400
    assert "partner" in missing.json()
    # Fraud analysts watch, they do not order.
    analyst = parent_user(ParentRole.FRAUD_ANALYST)
    assert (
        create_order(
            api_as(analyst), seller["customer"], [vm_line(catalogue)], partner=seller["partner"].pk
        ).status_code
        == 403
    )


def test_order_keeps_its_price_book_and_currency_when_lines_change(seller, catalogue):
    from tests.factories.quotes import PriceBookEntryFactory, PriceBookFactory

    euro = PriceBookFactory(name="Euro", currency="EUR", is_default=False)
    PriceBookEntryFactory(price_book=euro, product=catalogue["vm"], unit_price=Decimal("41.40"))
    client = api_as(seller["user"])
    order = create_order(client, seller["customer"], [vm_line(catalogue)], price_book=euro.pk).json()
    assert (order["currency"], order["total"]) == ("EUR", "82.80")
    body = client.patch(f"/api/v1/orders/{order['id']}/", {"lines": [vm_line(catalogue, 3)]}, format="json").json()
    assert (body["currency"], body["price_book"], body["total"]) == ("EUR", euro.pk, "124.20")
