"""The cases API: the isolation matrix, anonymous access, bad input, the state machine through the
actions, and constant query counts for every list."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import Case, CaseAttachment, CaseComment, CaseQueue, QueueKind
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from partners.models import AuditEvent
from tests.cases.conftest import make_partner, people
from tests.conftest import BUSINESS_MODELS, PARTNER_ROLES, api_as
from tests.factories import customer_of, partner_user
from tests.factories.cases import CaseCommentFactory, CaseFactory, CaseQueueFactory

pytestmark = pytest.mark.django_db

ACTIONS = {
    "assign": {"assignee": 1},
    "start-work": {},
    "wait-on-customer": {},
    "escalate": {"reason": "x"},
    "hand-back": {"reason": "x"},
    "resolve": {"resolution": "x"},
    "reopen": {"reason": "x"},
    "close": {"reason": "rejected", "note": "x"},
}


def other_partners_case(parent_support):
    theirs = make_partner(BusinessModel.DUAL)
    agent = partner_user(theirs, PartnerRole.SUPPORT)
    case = services.case_open(
        user=agent, customer=customer_of(theirs, owner=agent), origin="web", category="billing", subject="Theirs"
    )
    comment = services.case_comment_add(user=agent, case=case, body="shared", visibility="shared")
    upload = SimpleUploadedFile("log.txt", b"hello", content_type="text/plain")
    attachment = services.case_attachment_add(user=agent, case=case, file=upload)
    return case, comment, attachment


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
@pytest.mark.parametrize("role", PARTNER_ROLES)
def test_isolation_matrix(business_model, role, parent_support, client):
    mine = make_partner(business_model)
    user = partner_user(mine, role)
    own = CaseFactory(partner=mine, created_by=user, customer=customer_of(mine, owner=user))
    other, comment, attachment = other_partners_case(parent_support)
    other_queue = other.queue
    api = api_as(user)

    listed = {row["id"] for row in api.get("/api/v1/cases/?page_size=100").json()["results"]}
    assert own.pk in listed and other.pk not in listed
    url = f"/api/v1/cases/{other.pk}/"
    assert api.get(url).status_code == 404
    assert api.put(url, {"subject": "X"}).status_code == 404
    assert api.patch(url, {"subject": "X"}).status_code == 404
    assert api.delete(url).status_code == 404
    for name, payload in ACTIONS.items():
        assert api.post(f"{url}{name}/", payload).status_code == 404, name
    assert api.get(f"{url}comments/").status_code == 404
    assert api.post(f"{url}comments/", {"body": "hi"}).status_code == 404
    assert api.get(f"{url}comments/{comment.pk}/").status_code == 404
    assert api.patch(f"{url}comments/{comment.pk}/", {"body": "X"}).status_code == 404
    assert api.delete(f"{url}comments/{comment.pk}/").status_code == 404
    assert api.get(f"{url}attachments/").status_code == 404
    assert api.get(f"{url}attachments/{attachment.pk}/").status_code == 404
    assert api.get(f"{url}attachments/{attachment.pk}/download/").status_code == 404
    upload = SimpleUploadedFile("x.txt", b"x", content_type="text/plain")
    assert api.post(f"{url}attachments/", {"file": upload}, format="multipart").status_code == 404
    # Their comment and file are not reachable through my own case either.
    assert api.get(f"/api/v1/cases/{own.pk}/comments/{comment.pk}/").status_code == 404
    queues = {row["id"] for row in api.get("/api/v1/case-queues/?page_size=100").json()["results"]}
    assert other_queue.pk not in queues
    assert (own.queue_id in queues) == (own.queue.partner_id == mine.pk)  # parent queues are not listed
    queue_url = f"/api/v1/case-queues/{other_queue.pk}/"
    assert api.get(queue_url).status_code == 404
    assert api.put(queue_url, {"name": "X"}).status_code == 404
    assert api.patch(queue_url, {"name": "X"}).status_code == 404
    assert api.delete(queue_url).status_code == 404
    other.refresh_from_db()
    assert other.subject == "Theirs" and other.status == "new"
    assert CaseComment.objects.filter(case=other).count() == 1

    # The portal answers the same.
    client.force_login(user)
    base = f"/portal/cases/{other.pk}/"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}sla/").status_code == 404
    assert client.post(f"{base}comments/", {"body": "x", "visibility": "shared"}).status_code == 404
    assert client.get(f"{base}attachments/{attachment.pk}/").status_code == 404
    for name in ACTIONS:
        assert client.post(f"{base}{name}/", {"reason": "x"}).status_code == 404, name
    assert client.get(f"/portal/cases/{own.pk}/").status_code == 200
    assert other.subject not in client.get("/portal/cases/?view=all").content.decode()


def test_anonymous_is_401_and_redirected(api, client):
    case = CaseFactory()
    for url in (
        "/api/v1/cases/",
        f"/api/v1/cases/{case.pk}/",
        f"/api/v1/cases/{case.pk}/comments/",
        f"/api/v1/cases/{case.pk}/attachments/",
        "/api/v1/case-queues/",
    ):
        assert api.get(url).status_code == 401, url
    assert api.post(f"/api/v1/cases/{case.pk}/escalate/", {"reason": "x"}).status_code == 401
    for url in ("/portal/cases/", f"/portal/cases/{case.pk}/", "/portal/cases/new/", "/portal/cases/queues/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"origin": "web", "category": "billing"}, "subject"),
        ({"origin": "web", "category": "weather", "subject": "x"}, "category"),
        ({"origin": "fax", "category": "billing", "subject": "x"}, "origin"),
        ({"origin": "web", "category": "billing", "subject": "x", "colour": "red"}, "colour"),
        ({"origin": "web", "category": "billing", "subject": "x", "priority": "whenever"}, "priority"),
        ({"origin": "web", "category": "billing", "subject": "x"}, "customer"),  # neither customer nor lead
        ({"origin": "lead", "category": "billing", "subject": "x", "customer": "MINE"}, "lead_reference"),
        ({"origin": "parent", "category": "billing", "subject": "x", "customer": "MINE"}, "origin"),
        ({"origin": "web", "category": "billing", "subject": "x", "customer": "THEIRS"}, "customer"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(payload, field):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    theirs = customer_of(make_partner(BusinessModel.DUAL))
    payload = {k: {"MINE": customer.pk, "THEIRS": theirs.pk}.get(v, v) for k, v in payload.items()}
    before = (Case.objects.count(), AuditEvent.objects.count())
    response = api_as(agent).post("/api/v1/cases/", payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert (Case.objects.count(), AuditEvent.objects.count()) == before


def test_state_machine_legal_and_illegal_moves(parent_support):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    api = api_as(agent)
    case_id = api.post(
        "/api/v1/cases/", {"customer": customer.pk, "origin": "email", "category": "technical", "subject": "s"}
    ).json()["id"]
    url = f"/api/v1/cases/{case_id}/"

    def post(name, **payload):
        return api.post(f"{url}{name}/", payload)

    def status():
        return Case.objects.get(pk=case_id).status

    # new: cannot wait, resolve or reopen; closing needs duplicate/rejected with a note.
    assert post("wait-on-customer").status_code == 400
    assert post("resolve", resolution="done").status_code == 400
    assert post("reopen", reason="x").status_code == 400
    assert post("close", reason="resolved").status_code == 400
    assert post("close", reason="duplicate").status_code == 400 and "note" in post("close", reason="duplicate").json()
    assert status() == "new"
    # new → assigned → in progress ⇄ waiting → resolved → closed
    assert post("assign", assignee=agent.pk).json()["status"] == "assigned"
    assert post("assign", assignee=rep.pk).status_code == 400  # a rep is not an agent
    assert post("assign", assignee=parent_support.pk).status_code == 400  # nor is the parent, here
    assert post("start-work").json()["status"] == "in_progress"
    assert post("start-work").status_code == 400
    assert post("wait-on-customer").json()["status"] == "waiting_on_customer"
    assert post("start-work").json()["status"] == "in_progress"
    assert post("resolve", resolution="").status_code == 400
    assert post("resolve", resolution="Fixed").json()["status"] == "resolved"
    assert post("start-work").status_code == 400
    assert post("close", reason="duplicate", note="x").status_code == 400
    assert post("reopen", reason="Customer says it is back").json()["status"] == "in_progress"
    assert post("resolve", resolution="Fixed again").json()["status"] == "resolved"
    body = post("close", reason="resolved").json()
    assert body["status"] == "closed" and body["close_reason"] == "resolved"
    for name, payload in ACTIONS.items():
        if name in ("assign",):
            payload = {"assignee": agent.pk}
        assert post(name, **payload).status_code in (400, 403), name
    assert status() == "closed"
    verbs = list(AuditEvent.objects.filter(object_id=str(case_id)).values_list("verb", flat=True))
    assert {"case.open", "case.assign", "case.start", "case.wait", "case.resolve", "case.reopen", "case.close"} <= set(
        verbs
    )


def test_open_case_closes_as_rejected_with_a_reason():
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="spam")
    body = api_as(agent).post(f"/api/v1/cases/{case.pk}/close/", {"reason": "rejected", "note": "Spam"}).json()
    assert body["status"] == "closed" and body["close_reason"] == "rejected"
    assert AuditEvent.objects.get(verb="case.close", object_id=str(case.pk)).reason == "Spam"


def test_patch_edits_fields_and_rejects_unknown(parent_support):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="old")
    api = api_as(agent)
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"subject": "new"}).json()["subject"] == "new"
    response = api.patch(f"/api/v1/cases/{case.pk}/", {"status": "closed"})
    assert response.status_code == 400 and "status" in response.json()
    assert api_as(rep).patch(f"/api/v1/cases/{case.pk}/", {"subject": "rep"}).status_code in (403, 404)
    assert api_as(parent_support).patch(f"/api/v1/cases/{case.pk}/", {"subject": "p"}).status_code == 403
    assert api.delete(f"/api/v1/cases/{case.pk}/").status_code == 403


def _many_cases(partner, user, n=55):
    queue = CaseQueueFactory(kind=QueueKind.PARTNER, partner=partner)
    customer = customer_of(partner, owner=user)
    cases = [CaseFactory(partner=partner, customer=customer, queue=queue, created_by=user) for _ in range(n)]
    return queue, cases


def _count(client, url):
    client.get(url)  # warm caches (content types, the actor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.parametrize("who", ["partner", "parent"])
def test_list_query_counts_are_constant(who, parent_support):
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    queue, cases = _many_cases(partner, agent)
    case = cases[0]
    for i in range(55):
        CaseCommentFactory(case=case, author=agent, body=f"c{i}")
        CaseAttachment.objects.create(
            case=case,
            partner=partner,
            uploaded_by=agent,
            uploader_party="partner",
            file=f"case-attachments/{case.pk}/f{i}.txt",
            filename=f"f{i}.txt",
            content_type="text/plain",
            size=1,
        )
    for i in range(55):
        CaseQueueFactory(kind=QueueKind.PARTNER, partner=partner, name=f"q{i}")
    user = agent if who == "partner" else parent_support
    client = api_as(user)
    counts = {}
    for url in (
        "/api/v1/cases/",
        f"/api/v1/cases/{case.pk}/comments/",
        f"/api/v1/cases/{case.pk}/attachments/",
        "/api/v1/case-queues/",
    ):
        small, body_small = _count(client, f"{url}?page_size=1")
        large, body_large = _count(client, f"{url}?page_size=50")
        assert len(body_small["results"]) == 1 and len(body_large["results"]) == 50, url
        assert small == large, (url, small, large)
        counts[url.split("/")[-2] if "comments" in url or "attachments" in url else url] = small
    print(who, counts)
    assert max(counts.values()) <= 6


def test_queue_list_shows_own_queues_with_open_counts(parent_support):
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="a")
    parent_queue = CaseQueueFactory(kind=QueueKind.PARENT, partner=None, name="Tier 2")
    rows = {r["name"]: r for r in api_as(agent).get("/api/v1/case-queues/").json()["results"]}
    assert "Tier 2" not in rows and rows["Support"]["open_cases"] == 1
    rows = {r["name"]: r for r in api_as(parent_support).get("/api/v1/case-queues/").json()["results"]}
    assert rows["Tier 2"]["id"] == parent_queue.pk and rows["Support"]["partner"] == partner.slug
    own = rows["Support"]["id"]
    assert api_as(agent).patch(f"/api/v1/case-queues/{own}/", {"name": "Mine"}).status_code == 403
    assert CaseQueue.objects.count() == 2 and not CaseQueue.objects.filter(name="Mine").exists()


def test_list_filters_search_and_priority_ordering(parent_support):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    for subject, priority in (("Low one", "low"), ("Urgent one", "urgent"), ("High one", "high")):
        services.case_open(
            user=agent, customer=customer, origin="web", category="billing", subject=subject, priority=priority
        )
    api = api_as(agent)
    rows = api.get("/api/v1/cases/?ordering=-priority_rank").json()["results"]
    assert [r["priority"] for r in rows] == ["urgent", "high", "low"]
    assert [r["subject"] for r in api.get("/api/v1/cases/?search=urgent").json()["results"]] == ["Urgent one"]
    assert len(api.get("/api/v1/cases/?priority=low&priority=high").json()["results"]) == 2
    assert api.get("/api/v1/cases/?mine=true").json()["results"] == []
    assert len(api.get("/api/v1/cases/?is_open=true&owner_party=partner").json()["results"]) == 3
    other_queue = CaseQueueFactory(kind=QueueKind.PARTNER, partner=make_partner(BusinessModel.DUAL))
    response = api.get(f"/api/v1/cases/?queue={other_queue.pk}")
    assert response.status_code == 400 and "queue" in response.json()
