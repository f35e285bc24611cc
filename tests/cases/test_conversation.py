"""Comments and files: internal to one party or shared; what one side marks internal never reaches
the other, through the API or the portal. Attachments have size and type limits."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import CaseAttachment, CaseComment
from partners.agreement import BusinessModel
from tests.cases.conftest import make_partner, people
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

PARTNER_SECRET = "partner-internal: customer is grumpy"
PARENT_SECRET = "parent-internal: known bug 4711"


@pytest.fixture
def conversation(parent_support):
    partner = make_partner(BusinessModel.DUAL)
    agent, rep, customer = people(partner)
    case = services.case_open(user=agent, customer=customer, origin="email", category="technical", subject="Slow")
    services.case_comment_add(user=agent, case=case, body=PARTNER_SECRET, visibility="partner_internal")
    services.case_comment_add(user=agent, case=case, body="Shared from partner", visibility="shared")
    case = services.case_escalate(user=agent, case=case, reason="complex")
    services.case_comment_add(user=parent_support, case=case, body=PARENT_SECRET, visibility="parent_internal")
    services.case_comment_add(user=parent_support, case=case, body="Shared from parent", visibility="shared")
    for user, name, visibility in (
        (agent, "partner-notes.txt", "partner_internal"),
        (parent_support, "parent-notes.txt", "parent_internal"),
        (parent_support, "shared.txt", "shared"),
    ):
        upload = SimpleUploadedFile(name, b"notes", content_type="text/plain")
        services.case_attachment_add(user=user, case=case, file=upload, visibility=visibility)
    return case, agent, rep


def test_internal_comments_never_reach_the_other_party_via_api(conversation, parent_support):
    case, agent, rep = conversation
    partner_view = api_as(agent).get(f"/api/v1/cases/{case.pk}/comments/").json()["results"]
    parent_view = api_as(parent_support).get(f"/api/v1/cases/{case.pk}/comments/").json()["results"]
    assert [c["body"] for c in partner_view] == [PARTNER_SECRET, "Shared from partner", "Shared from parent"]
    assert [c["body"] for c in parent_view] == ["Shared from partner", PARENT_SECRET, "Shared from parent"]
    assert all(c["author"] is None for c in partner_view if c["author_party"] == "parent")
    hidden = CaseComment.objects.get(body=PARENT_SECRET)
    assert api_as(agent).get(f"/api/v1/cases/{case.pk}/comments/{hidden.pk}/").status_code == 404
    hidden = CaseComment.objects.get(body=PARTNER_SECRET)
    assert api_as(parent_support).get(f"/api/v1/cases/{case.pk}/comments/{hidden.pk}/").status_code == 404
    partner_files = {
        a["filename"] for a in api_as(agent).get(f"/api/v1/cases/{case.pk}/attachments/").json()["results"]
    }
    parent_files = {
        a["filename"] for a in api_as(parent_support).get(f"/api/v1/cases/{case.pk}/attachments/").json()["results"]
    }
    assert partner_files == {"partner-notes.txt", "shared.txt"}
    assert parent_files == {"parent-notes.txt", "shared.txt"}
    secret_file = CaseAttachment.objects.get(filename="parent-notes.txt")
    assert api_as(agent).get(f"/api/v1/cases/{case.pk}/attachments/{secret_file.pk}/download/").status_code == 404


def test_internal_comments_never_reach_the_other_party_via_portal(conversation, parent_support, client):
    case, agent, rep = conversation
    client.force_login(agent)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert PARTNER_SECRET in page and "Shared from parent" in page
    assert PARENT_SECRET not in page and "parent-notes.txt" not in page
    assert "Internal note" in page and 'data-visibility="partner_internal"' in page
    secret_file = CaseAttachment.objects.get(filename="parent-notes.txt")
    assert client.get(f"/portal/cases/{case.pk}/attachments/{secret_file.pk}/").status_code == 404
    client.force_login(parent_support)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert PARENT_SECRET in page and PARTNER_SECRET not in page and "partner-notes.txt" not in page
    shared = CaseAttachment.objects.get(filename="shared.txt")
    response = client.get(f"/portal/cases/{case.pk}/attachments/{shared.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"notes"


def test_a_party_cannot_write_the_other_partys_internal_kind(conversation, parent_support):
    case, agent, rep = conversation
    before = CaseComment.objects.count()
    response = api_as(agent).post(f"/api/v1/cases/{case.pk}/comments/", {"body": "x", "visibility": "parent_internal"})
    assert response.status_code == 400 and "visibility" in response.json()
    response = api_as(parent_support).post(
        f"/api/v1/cases/{case.pk}/comments/", {"body": "x", "visibility": "partner_internal"}
    )
    assert response.status_code == 400 and "visibility" in response.json()
    assert api_as(agent).post(f"/api/v1/cases/{case.pk}/comments/", {"body": ""}).status_code == 400
    assert api_as(agent).post(f"/api/v1/cases/{case.pk}/comments/", {"body": "x", "mood": 1}).status_code == 400
    assert CaseComment.objects.count() == before


def test_referral_partner_sees_no_conversation_only_status(parent_support, client):
    partner = make_partner(BusinessModel.REFERRAL)
    agent, rep, customer = people(partner)
    case = services.case_open(user=rep, customer=customer, origin="phone", category="billing", subject="Invoice")
    services.case_comment_add(user=parent_support, case=case, body="Shared answer", visibility="shared")
    api = api_as(rep)
    assert api.get(f"/api/v1/cases/{case.pk}/comments/").json()["results"] == []
    assert api.post(f"/api/v1/cases/{case.pk}/comments/", {"body": "hi"}).status_code == 403
    assert set(api.get("/api/v1/cases/").json()["results"][0]) == {
        "id",
        "customer",
        "subject",
        "status",
        "created_at",
        "updated_at",
    }
    client.force_login(rep)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "Shared answer" not in page and "New" in page


@pytest.mark.parametrize(
    "name, content, content_type, ok",
    [
        ("report.pdf", b"%PDF-1.4", "application/pdf", True),
        ("shot.png", b"\x89PNG", "image/png", True),
        ("tool.exe", b"MZ", "application/x-msdownload", False),
        ("fake.pdf", b"MZ", "application/x-msdownload", False),  # type and name disagree
        ("page.html", b"<script>", "text/html", False),
        ("empty.txt", b"", "text/plain", False),
    ],
)
def test_attachment_type_limits(name, content, content_type, ok):
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="x")
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = api_as(agent).post(f"/api/v1/cases/{case.pk}/attachments/", {"file": upload}, format="multipart")
    if ok:
        assert response.status_code == 201, response.json()
        assert response.json()["size"] == len(content)
    else:
        assert response.status_code == 400 and "file" in response.json()
        assert not CaseAttachment.objects.exists()


def test_attachment_size_limit(monkeypatch):
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 1024)
    partner = make_partner(BusinessModel.REGISTRATION_RETENTION)
    agent, rep, customer = people(partner)
    case = services.case_open(user=agent, customer=customer, origin="web", category="billing", subject="x")
    api = api_as(agent)
    big = SimpleUploadedFile("big.txt", b"x" * 1025, content_type="text/plain")
    response = api.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": big}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    fits = SimpleUploadedFile("fits.txt", b"x" * 1024, content_type="text/plain")
    assert api.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": fits}, format="multipart").status_code == 201
    assert CaseAttachment.objects.count() == 1


def test_comment_list_filters_and_search(conversation, parent_support):
    case, agent, rep = conversation
    api = api_as(agent)
    rows = api.get(f"/api/v1/cases/{case.pk}/comments/?visibility=shared").json()["results"]
    assert [c["body"] for c in rows] == ["Shared from partner", "Shared from parent"]
    rows = api.get(f"/api/v1/cases/{case.pk}/comments/?search=grumpy").json()["results"]
    assert [c["body"] for c in rows] == [PARTNER_SECRET]
    # Asking for the other side's internal kind finds nothing, never the notes themselves.
    assert api.get(f"/api/v1/cases/{case.pk}/comments/?visibility=parent_internal").json()["results"] == []
    assert api.get(f"/api/v1/cases/{case.pk}/comments/?search=4711").json()["results"] == []
    rows = api.get(f"/api/v1/cases/{case.pk}/comments/?ordering=-created_at").json()["results"]
    assert rows[0]["body"] == "Shared from parent"
