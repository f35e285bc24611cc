"""Each fraud rule fires on a crafted case and stays silent on a near miss, through its event
check (Celery tasks run inline in tests) or the sweep."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import fraud
from analytics.models import FraudAlert
from deals import services as deals
from deals.models import DealRegistration, Opportunity, OpportunityFlow, RegistrationExtension
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.analytics.conftest import alerts, set_thresholds
from tests.factories import CustomerFactory, PartnerFactory, ProductFactory, partner_user
from tests.factories.deals import OpportunityFactory, registration_of
from tests.factories.quotes import DiscountScheduleFactory, QuoteFactory, order_with_line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hooks_run_at_once(monkeypatch):
    """The test runs inside one transaction that never commits: on-commit callbacks (the fraud
    checks the services enqueue as their last step) run at once instead."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())


@pytest.fixture
def product(db):
    return ProductFactory()


def approve_and_win(reviewer, rep, *, name, value, won):
    registration = registration_of(rep, name=name, domain=f"{name.split()[0].lower()}.example", value=value)
    deals.deal_registration_approve(user=reviewer, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    deals.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal(won))
    return opportunity


def test_duplicate_registration_across_partners(
    partner_a, partner_b, rep_a, product, django_capture_on_commit_callbacks
):
    rep_b = partner_user(partner_b, PartnerRole.REP)
    registration_of(rep_a, name="Acme Inc", domain="acme.example", products=[product])
    with django_capture_on_commit_callbacks(execute=True):
        duplicate = registration_of(rep_b, name="ACME Incorporated", domain="www.acme.example", products=[product])
        other = registration_of(rep_b, name="Zenith Ltd", domain="zenith.example", products=[product])
    [alert] = alerts("duplicate_registration")
    assert alert.subject_key == fraud.subject_key(duplicate) and alert.partner == partner_b
    assert alert.evidence[0]["partner"] == partner_a.name
    assert not alerts("duplicate_registration", subject_key=fraud.subject_key(other)).exists()


def test_registering_the_parents_open_direct_opportunity(rep_a, parent_admin, product):
    customer = CustomerFactory(legal_name="Direct Account Corp", domain="directaccount.example", country="US")
    OpportunityFactory(partner=None, flow=OpportunityFlow.DIRECT, managed_by="parent", customer=customer)
    hit = registration_of(rep_a, name="Direct Account Corp", domain="directaccount.example", products=[product])
    miss = registration_of(rep_a, name="Unrelated Account Corp", domain="unrelated.example", products=[product])
    [alert] = alerts("parent_customer_registration")
    assert alert.subject_key == fraud.subject_key(hit) and "direct_opportunity" in alert.evidence[0]
    assert alert.score == 80
    assert not alerts("parent_customer_registration", subject_key=fraud.subject_key(miss)).exists()


def test_reregistration_soon_after_expiry(rep_a, parent_admin):
    old = registration_of(rep_a, name="Hoard Co", domain="hoard.example")
    deals.deal_registration_approve(user=parent_admin, registration=old)
    DealRegistration.objects.filter(pk=old.pk).update(status="expired", updated_at=timezone.now())
    again = registration_of(rep_a, name="Hoard Co", domain="hoard.example")
    assert alerts("deal_hoarding", subject_key=fraud.subject_key(again)).exists()
    # Near miss: expired long before the new registration.
    stale = registration_of(rep_a, name="Stale Co", domain="stale.example")
    deals.deal_registration_approve(user=parent_admin, registration=stale)
    DealRegistration.objects.filter(pk=stale.pk).update(
        status="expired", updated_at=timezone.now() - datetime.timedelta(days=60)
    )
    later = registration_of(rep_a, name="Stale Co", domain="stale.example")
    assert not alerts("deal_hoarding", subject_key=fraud.subject_key(later)).exists()


@pytest.mark.parametrize("idle, fires", [(3, True), (2, False)])
def test_many_idle_approved_registrations(partner_a, rep_a, parent_admin, idle, fires):
    set_thresholds("deal_hoarding", idle_count=3, idle_days=30)
    long_ago = timezone.now() - datetime.timedelta(days=40)
    for n in range(idle):
        registration = registration_of(rep_a, name=f"Idle {n} GmbH", domain=f"idle{n}.example")
        deals.deal_registration_approve(user=parent_admin, registration=registration)
        DealRegistration.objects.filter(pk=registration.pk).update(approved_at=long_ago)
        Opportunity.objects.filter(registration=registration).update(updated_at=long_ago)
    fraud.sweep(codes=["deal_hoarding"])
    found = alerts("deal_hoarding", subject_key__startswith=f"partners.partner:{partner_a.pk}@")
    assert found.exists() is fires
    if fires:
        assert found.get().hold_keys == [""] and len(found.get().evidence) == 3


@pytest.mark.parametrize("extensions, fires", [(2, True), (1, False)])
def test_repeated_extensions(rep_a, parent_admin, extensions, fires):
    registration = registration_of(rep_a, name="Extended Co", domain="extended.example")
    deals.deal_registration_approve(user=parent_admin, registration=registration)
    for n in range(extensions):
        RegistrationExtension.objects.create(
            registration=registration, partner=registration.partner, sequence=n + 1, days=30, reason="More time"
        )
    fraud.sweep(codes=["deal_hoarding"])
    assert alerts("deal_hoarding", subject_key=fraud.subject_key(registration)).exists() is fires


def test_win_without_an_order_and_a_won_amount_far_above_the_registered_value(parent_admin):
    """The issue's story: registered at 12k, marked won at 950k, no order behind it."""
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    opportunity = approve_and_win(parent_admin, rep, name="Big Fish Inc", value="12000.00", won="950000.00")
    [no_order] = alerts("win_without_order")
    [inflated] = alerts("won_amount_inflated")
    assert no_order.subject_key == inflated.subject_key == fraud.subject_key(opportunity)
    assert no_order.hold_keys == [f"opportunity:{opportunity.pk}"]
    assert inflated.evidence[0]["registered_value"] == "12000.00" and inflated.score == 95


def test_near_misses_win_with_an_order_and_a_modest_uplift(parent_admin):
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    registration = registration_of(rep, name="Fair Deal Inc", domain="fairdeal.example", value="12000.00")
    deals.deal_registration_approve(user=parent_admin, registration=registration)
    opportunity = Opportunity.objects.get(registration=registration)
    quote = QuoteFactory(partner=partner, customer=opportunity.customer, opportunity=opportunity)
    order_with_line(partner, opportunity.customer, quote=quote, opportunity=opportunity, status="submitted")
    deals.opportunity_mark_won(user=rep, opportunity=opportunity, amount=Decimal("47000.00"))  # under 5×
    assert not alerts("win_without_order").exists()
    assert not alerts("won_amount_inflated").exists()
    # A small win without an order stays under the rule's minimum.
    small = approve_and_win(parent_admin, rep, name="Small Win Inc", value="5000.00", won="6000.00")
    assert not alerts("win_without_order", subject_key=fraud.subject_key(small)).exists()


@pytest.fixture
def gold_line(db):
    from partners.models import ProgramTier

    gold, _ = ProgramTier.objects.get_or_create(name="Gold", defaults={"rank": 3})
    schedule = DiscountScheduleFactory(tier=gold, max_discount_percent=Decimal("15.00"))
    return gold, ProductFactory(product_line=schedule.product_line, list_price=Decimal("100.00"))


@pytest.mark.parametrize("discount, fires", [(Decimal("14.50"), True), (Decimal("5.00"), False)])
def test_discount_at_the_limit(gold_line, discount, fires):
    gold, product = gold_line
    partner = PartnerFactory(tier=gold)
    order = order_with_line(partner, product=product, quantity=10)
    order.lines.update(discount_percent=discount)
    fraud.check_event("order_placed", order)
    assert alerts("discount_at_limit", subject_key=fraud.subject_key(order)).exists() is fires


@pytest.mark.parametrize("second_partner_discount, fires", [(Decimal("12"), True), (Decimal("0"), False)])
def test_repeated_special_pricing_for_one_customer(second_partner_discount, fires):
    customer = CustomerFactory()
    first = order_with_line(PartnerFactory(), customer, status="submitted", header_discount_percent=Decimal("12"))
    second = order_with_line(
        PartnerFactory(), customer, status="submitted", header_discount_percent=second_partner_discount
    )
    fraud.check_event("order_placed", second)
    fraud.check_event("order_placed", first)
    assert alerts("special_pricing_across_partners", subject_key=fraud.subject_key(first)).exists() is fires


def test_related_party_customer_on_the_partners_own_domain(db):
    partner = PartnerFactory(website="https://www.alpha-partners.example")
    rep = partner_user(partner, PartnerRole.REP, email="rep@alpha-partners.example")
    hit = registration_of(rep, name="Alpha Holdings", domain="holdings.alpha-partners.example")
    miss = registration_of(rep, name="Far Away Corp", domain="faraway.example")
    [alert] = alerts("related_party")
    assert alert.subject_key == fraud.subject_key(hit)
    assert not alerts("related_party", subject_key=fraud.subject_key(miss)).exists()
    # The sweep finds the same subject: still one alert.
    fraud.sweep(codes=["related_party"])
    assert alerts("related_party").count() == 1


def test_related_party_people_on_another_partners_domain(db):
    other = PartnerFactory(website="https://rival.example")
    partner = PartnerFactory()
    rep = partner_user(partner, PartnerRole.REP, email="insider@rival.example")
    registration = registration_of(rep, name="Neutral Corp", domain="neutral.example")
    [alert] = alerts("related_party")
    assert alert.subject_key == fraud.subject_key(registration)
    assert alert.evidence == [{"people_domain": "rival.example", "website_of_partner": other.pk}]


@pytest.mark.parametrize("cancelled, fires", [(True, True), (False, False)])
def test_order_spike_followed_by_cancellations(cancelled, fires):
    set_thresholds("order_spike", boundary_days=0, min_value=20000, factor=3)
    partner = PartnerFactory()
    old = order_with_line(partner, status="fulfilled")
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))
    spike = []
    for _ in range(3):
        order = order_with_line(partner, product=ProductFactory(list_price=Decimal("10000.00")), status="submitted")
        spike.append(order)
    if cancelled:
        type(spike[0]).objects.filter(pk=spike[0].pk).update(status="cancelled")
    fraud.check_event("order_placed", spike[-1])
    assert alerts("order_spike").exists() is fires
    if fires:
        assert alerts("order_spike").get().evidence[0]["cancelled"] == 1


@pytest.mark.parametrize("count, fires", [(4, True), (3, False)])
def test_velocity_registrations_per_hour(partner_a, rep_a, count, fires):
    set_thresholds("velocity", max_per_hour=3, similar_names=99)
    for n in range(count):
        registration_of(rep_a, name=f"Distinct{n} {'abcdefghij'[n] * 6} Corp", domain=f"distinct{n}.example")
    assert alerts("velocity").exists() is fires


@pytest.mark.parametrize(
    "names, fires",
    [
        (["Globex Trading", "Globex Tradings", "Globex Tradng", "GlobEx Trading Co"], True),
        (["Globex Trading", "Initech Systems", "Umbrella Health", "Hooli Search"], False),
    ],
)
def test_velocity_near_identical_names(rep_a, names, fires):
    for name in names:
        registration_of(rep_a, name=name, domain="")
    assert alerts("velocity").exists() is fires


def test_a_disabled_rule_stays_silent(parent_admin):
    from analytics.models import FraudRule

    fraud.sync_rules()
    FraudRule.objects.filter(code="win_without_order").update(enabled=False)
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    approve_and_win(parent_admin, rep, name="Quiet Win Inc", value="12000.00", won="950000.00")
    assert not alerts("win_without_order").exists()
    assert alerts("won_amount_inflated").exists()


def test_every_registered_rule_is_tested_here():
    tested = {
        "duplicate_registration",
        "parent_customer_registration",
        "deal_hoarding",
        "win_without_order",
        "won_amount_inflated",
        "discount_at_limit",
        "special_pricing_across_partners",
        "related_party",
        "order_spike",
        "velocity",
        # tests/analytics/test_mdf_fraud.py
        "mdf_near_duplicate_invoice",
        "mdf_near_duplicate_amount",
        "mdf_round_amount",
        "mdf_at_threshold",
        "mdf_outside_activity_window",
    }
    assert set(fraud.RULES) == tested


def test_commission_about_to_be_paid_checks_the_subject_that_earned_it(parent_admin, finance):
    from partners import ledger

    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    rep = partner_user(partner, PartnerRole.REP)
    fraud.sync_rules()
    from analytics.models import FraudRule

    FraudRule.objects.filter(code="win_without_order").update(enabled=False)
    opportunity = approve_and_win(parent_admin, rep, name="Late Check Inc", value="12000.00", won="90000.00")
    entry = deals.opportunity_verify_win(user=finance, opportunity=opportunity)
    assert not alerts("win_without_order").exists()
    FraudRule.objects.filter(code="win_without_order").update(enabled=True)
    ledger.commission_approve(user=finance, commission=entry)  # about to be paid: checked again
    assert alerts("win_without_order", subject_key=fraud.subject_key(opportunity)).exists()


# The nightly sweep is set-based: its queries do not grow with the rows it reads -------------------------


def test_the_spike_sweep_reads_every_partner_at_once(django_assert_max_num_queries):
    set_thresholds("order_spike", boundary_days=0, min_value=20000, factor=3)
    for _ in range(3):
        partner = PartnerFactory()
        old = order_with_line(partner, status="fulfilled")
        type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=30))
        spike = [
            order_with_line(partner, product=ProductFactory(list_price=Decimal("10000.00")), status="submitted")
            for _ in range(3)
        ]
        type(spike[0]).objects.filter(pk=spike[0].pk).update(status="cancelled")
    from analytics.fraud import RULES, params_of, sync_rules

    rule = RULES["order_spike"]
    params = params_of(rule, sync_rules()["order_spike"])
    with django_assert_max_num_queries(2):  # the figures of every partner, then their names
        findings = list(rule.sweep(params, timezone.now() - datetime.timedelta(days=7)))
    assert len(findings) == 3 and len({f.partner_id for f in findings}) == 3  # one per partner, no repeats
    fraud.sweep(codes=["order_spike"])
    assert alerts("order_spike").count() == 3


def test_the_discount_sweep_reads_orders_with_their_lines(gold_line, django_assert_max_num_queries):
    gold, product = gold_line
    partner = PartnerFactory(tier=gold)
    orders = [order_with_line(partner, product=product, quantity=10, status="submitted") for _ in range(6)]
    type(orders[0]).objects.filter(pk__in=[o.pk for o in orders]).update(submitted_at=timezone.now())
    for order in orders[:4]:
        order.lines.update(discount_percent=Decimal("14.50"))
    from analytics.fraud import RULES, params_of, sync_rules

    rule = RULES["discount_at_limit"]
    params = params_of(rule, sync_rules()["discount_at_limit"])
    with django_assert_max_num_queries(6):  # orders, their lines, the tier's limits, the threshold
        findings = list(rule.sweep(params, timezone.now() - datetime.timedelta(days=7)))
    assert {f.subject_key for f in findings} == {fraud.subject_key(o) for o in orders[:4]}


def test_the_hoarding_sweep_matches_a_reregistration_in_the_database(rep_a, parent_admin):
    old = registration_of(rep_a, name="Hoard Co", domain="hoard.example")
    deals.deal_registration_approve(user=parent_admin, registration=old)
    DealRegistration.objects.filter(pk=old.pk).update(status="expired", updated_at=timezone.now())
    again = registration_of(rep_a, name="Hoard Co", domain="hoard.example")
    unrelated = registration_of(rep_a, name="Other Co", domain="other.example")
    FraudAlert.objects.all().delete()
    fraud.sweep(codes=["deal_hoarding"])
    assert alerts("deal_hoarding", subject_key=fraud.subject_key(again)).exists()
    assert not alerts("deal_hoarding", subject_key=fraud.subject_key(unrelated)).exists()
