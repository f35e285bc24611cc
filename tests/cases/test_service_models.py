"""The three service models, read from the agreement, for each business model's preset: who may
open a case, see it, work it, escalate it and hand it back."""

import pytest
from django.core.exceptions import PermissionDenied

from cases.models import Case, CaseHandover, Party
from partners.access import ParentRole, PartnerRole
from partners.agreement import PRESETS, BusinessModel, ServiceModel
from tests.cases.conftest import make_partner, people
from tests.conftest import BUSINESS_MODELS, api_as
from tests.factories import parent_user, partner_user

pytestmark = pytest.mark.django_db


def open_case(user, customer, category="technical", **extra):
    payload = {"customer": customer.pk, "origin": "phone", "category": category, "subject": "Help"} | extra
    response = api_as(user).post("/api/v1/cases/", payload)
    assert response.status_code == 201, response.json()
    return Case.objects.get(pk=response.json()["id"])


def act(user, case, name, **payload):
    return api_as(user).post(f"/api/v1/cases/{case.pk}/{name}/", payload)


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_service_model_per_business_model(business_model, parent_support):
    service_model = PRESETS[BusinessModel(business_model)]["service_model"]
    partner = make_partner(business_model)
    agent, rep, customer = people(partner)
    outsider = partner_user(make_partner(BusinessModel.DUAL), PartnerRole.SUPPORT)

    # Who may open: the partner's rep (for its customer) and agents; never marketing.
    marketing = partner_user(partner, PartnerRole.MARKETING)
    assert api_as(marketing).post(
        "/api/v1/cases/", {"customer": customer.pk, "origin": "web", "category": "billing", "subject": "x"}
    ).status_code in (400, 403)
    case = open_case(rep, customer)
    assert case.service_model == service_model
    expected_owner = Party.PARENT if service_model == ServiceModel.PARENT_ONLY else Party.PARTNER
    assert case.owner_party == expected_owner
    assert case.queue.party == expected_owner
    assert case.partner_id == partner.pk

    # Who may see: the partner (a referral partner only the status), the parent; nobody else.
    body = api_as(rep).get(f"/api/v1/cases/{case.pk}/").json()
    if business_model == BusinessModel.REFERRAL:
        assert set(body) == {"id", "customer", "subject", "status", "created_at", "updated_at"}
    else:
        assert body["owner_party"] == expected_owner
    assert api_as(parent_support).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert api_as(outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 404

    # Who may work: the owning party; under "either" the partner only simple categories.
    partner_works = service_model == ServiceModel.PARTNER_ONLY
    assert act(agent, case, "start-work").status_code == (200 if partner_works else 403)
    parent_works = service_model == ServiceModel.PARENT_ONLY  # under the others, not until escalated
    assert act(parent_support, case, "start-work").status_code == (200 if parent_works else 403)
    if service_model == ServiceModel.EITHER:
        simple = open_case(agent, customer, category="billing")
        assert act(agent, simple, "start-work").status_code == 200

    # Who may escalate: the partner's agents, under either and partner-only.
    case.refresh_from_db()
    response = act(agent, case, "escalate", reason="Needs engineering")
    if service_model == ServiceModel.PARENT_ONLY:
        assert response.status_code == 403
        assert act(parent_support, case, "hand-back", reason="no").status_code == 403
        return
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.owner_party == Party.PARENT and case.status == "new" and case.assignee is None
    # The parent now owns it; the partner keeps seeing it but cannot work it; nobody else sees it.
    assert api_as(rep).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert act(agent, case, "start-work").status_code == 403
    assert act(parent_support, case, "start-work").status_code == 200
    assert api_as(outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    # Only the parent hands back; the case returns to the partner's queue.
    assert act(agent, case, "hand-back", reason="mine").status_code == 403
    response = act(parent_support, case, "hand-back", reason="Configuration issue, partner can fix")
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert case.owner_party == Party.PARTNER and case.queue.partner_id == partner.pk and case.status == "new"
    history = list(CaseHandover.objects.filter(case=case).order_by("id"))
    assert [(h.from_party, h.to_party, h.by, h.kind) for h in history] == [
        ("partner", "parent", agent, "escalate"),
        ("parent", "partner", parent_support, "hand_back"),
    ]
    assert history[0].reason == "Needs engineering" and history[0].created_at is not None
    assert [h["kind"] for h in response.json()["handovers"]] == ["escalate", "hand_back"]
    # Handed back, the partner works it whatever its category; escalating again needs the parent.
    assert act(agent, case, "start-work").status_code == 200
    assert api_as(outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_parent_sees_partner_only_case_for_oversight_but_does_not_work_it(parent_support):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = open_case(agent, customer)
    body = api_as(parent_support).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["actions"] == ["comment"]
    for name, payload in [
        ("start-work", {}),
        ("assign", {"assignee": parent_support.pk}),
        ("resolve", {"resolution": "x"}),
        ("close", {"reason": "rejected", "note": "x"}),
        ("hand-back", {"reason": "x"}),
    ]:
        assert act(parent_support, case, name, **payload).status_code == 403, name


def test_parent_only_partner_opens_but_cannot_work(parent_support):
    partner = make_partner(BusinessModel.REGISTRATION_PARENT)
    agent, rep, customer = people(partner)
    case = open_case(agent, customer, category="billing")
    assert case.owner_party == Party.PARENT
    for name, payload in [("start-work", {}), ("resolve", {"resolution": "x"}), ("escalate", {"reason": "x"})]:
        assert act(agent, case, name, **payload).status_code == 403, name
    assert act(parent_support, case, "assign", assignee=parent_support.pk).status_code == 200
    body = api_as(agent).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["status"] == "assigned"
    assert body["assignee"] is None  # the partner does not see which of the parent's people works it
    assert body["queue"] is None and body["queue_name"] is None  # nor the parent's queues


def test_channel_manager_works_only_granted_partners_cases():
    granted, other = make_partner(BusinessModel.REFERRAL), make_partner(BusinessModel.REFERRAL)
    manager = parent_user(ParentRole.CHANNEL_MANAGER, partners=[granted])
    case_in = open_case(people(granted)[0], people(granted)[2])
    case_out = open_case(people(other)[0], people(other)[2])
    assert act(manager, case_in, "start-work").status_code == 200
    assert act(manager, case_out, "start-work").status_code == 404


def test_rep_sees_own_cases_not_colleagues():
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    mine = open_case(rep, customer)
    theirs = open_case(agent, customer)
    ids = {row["id"] for row in api_as(rep).get("/api/v1/cases/").json()["results"]}
    assert ids == {mine.pk}
    assert api_as(rep).get(f"/api/v1/cases/{theirs.pk}/").status_code == 404
    assert {row["id"] for row in api_as(agent).get("/api/v1/cases/").json()["results"]} == {mine.pk, theirs.pk}


def test_case_from_a_lead_records_origin_and_reference(parent_support):
    response = api_as(parent_support).post(
        "/api/v1/cases/",
        {"origin": "lead", "lead_reference": "Lead #42 (Contoso expo)", "category": "sales_inquiry", "subject": "Q"},
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    assert case.origin == "lead" and case.lead_reference.startswith("Lead #42")
    assert case.customer is None and case.partner is None and case.owner_party == Party.PARENT


def test_per_person_grant_shares_a_case_and_ends_when_it_changes_hands(parent_support):
    from cases import services
    from cases.models import CaseUserObjectPermission

    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    case = open_case(agent, customer)
    assert api_as(rep).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    services.case_share(user=agent, case=case, with_user=rep)
    services.case_share(user=agent, case=case, with_user=rep)  # once only
    assert CaseUserObjectPermission.objects.filter(content_object=case, user=rep).count() == 1
    assert api_as(rep).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    outsider = partner_user(make_partner(BusinessModel.DUAL), PartnerRole.REP)
    with pytest.raises(PermissionDenied):
        services.case_share(user=agent, case=case, with_user=outsider)
    with pytest.raises(PermissionDenied):
        services.case_share(user=rep, case=case, with_user=rep)
    services.case_escalate(user=agent, case=case, reason="complex")
    assert not CaseUserObjectPermission.objects.filter(content_object=case).exists()
    assert api_as(rep).get(f"/api/v1/cases/{case.pk}/").status_code == 404


@pytest.mark.parametrize(
    "role, sees",
    [
        (ParentRole.SUPPORT, True),
        (ParentRole.SALES, True),
        (ParentRole.FRAUD_ANALYST, True),
        (ParentRole.ADMIN, True),
        (ParentRole.FINANCE, False),
        (ParentRole.MARKETING, False),
    ],
)
def test_parent_staff_see_cases_by_function(role, sees):
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    case = open_case(agent, customer)
    staff = parent_user(role)
    api = api_as(staff)
    assert (case.pk in {r["id"] for r in api.get("/api/v1/cases/").json()["results"]}) == sees
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == (200 if sees else 404)
    assert api.get(f"/api/v1/cases/{case.pk}/comments/").status_code == (200 if sees else 404)
