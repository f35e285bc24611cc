"""Proof of performance: the same file (by SHA-256) or the same vendor invoice is claimed once in the
whole channel; the refusal names only the earlier claim's reference, never the other partner. Files
that are too large or of the wrong type are refused with nothing written."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mdf import services
from mdf.models import ClaimFile, FundClaim
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import api_as
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import approved_request, marketing_staff, proof, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_partners():
    first = PartnerFactory(name="Alpha Marketing Co", business_model=BusinessModel.REGISTRATION_RETENTION)
    second = PartnerFactory(name="Bravo Events Ltd", business_model=BusinessModel.DUAL)
    a, b = partner_user(first, PartnerRole.MARKETING), partner_user(second, PartnerRole.MARKETING)
    return (first, a, approved_request(first, user=a)), (second, b, approved_request(second, user=b))


def _claim_payload(fund_request, invoice):
    return {
        "fund_request": fund_request.pk,
        "vendor": "Acme Events",
        "invoice_number": invoice,
        "invoice_date": str(timezone.localdate()),
        "amount": "100.00",
    }


def test_the_same_file_is_refused_across_partners(two_partners):
    (first, a, fr_a), (second, b, fr_b) = two_partners
    content = b"%PDF-1.4 the one invoice"
    earlier = submitted_claim(fr_a, user=a)
    services.fund_claim_file_add(user=a, claim=FundClaim.objects.create(
        partner=first, fund_request=fr_a, vendor="X", invoice_number="X1", vendor_key="X", invoice_key="X1",
        invoice_date=timezone.localdate(), amount=1,
    ), file=SimpleUploadedFile("scan.pdf", content, content_type="application/pdf"))  # fmt: skip
    stored = ClaimFile.objects.get(sha256=hashlib.sha256(content).hexdigest())
    assert stored.size == len(content)
    draft = api_as(b).post("/api/v1/fund-claims/", _claim_payload(fr_b, "B-1"), format="json")
    assert draft.status_code == 201, draft.json()
    upload = SimpleUploadedFile("copy.pdf", content, content_type="application/pdf")
    response = api_as(b).post(f"/api/v1/fund-claims/{draft.json()['id']}/files/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert stored.claim.reference in message
    assert first.name not in str(response.json()) and first.slug not in str(response.json())
    assert ClaimFile.objects.filter(partner=second).count() == 0
    assert earlier.reference  # the first partner's claims are untouched


def test_the_same_invoice_is_refused_across_partners_even_written_differently(two_partners):
    (first, a, fr_a), (second, b, fr_b) = two_partners
    earlier = submitted_claim(fr_a, user=a, vendor="Acme Events", invoice="INV-2026/001")
    payload = _claim_payload(fr_b, "inv 2026 001") | {"vendor": "ACME events"}
    response = api_as(b).post("/api/v1/fund-claims/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["invoice_number"] == [f"This vendor's invoice was already claimed ({earlier.reference})."]
    assert first.name not in str(response.json())
    assert FundClaim.objects.filter(partner=second).count() == 0


def test_two_drafts_of_one_invoice_only_one_is_submitted(two_partners):
    (first, a, fr_a), (second, b, fr_b) = two_partners
    kwargs = {"vendor": "V", "invoice_number": "9", "invoice_date": timezone.localdate(), "amount": 10}
    draft_a = services.fund_claim_create(user=a, fund_request=fr_a, files=[proof()], **kwargs)
    draft_b = services.fund_claim_create(user=b, fund_request=fr_b, files=[proof()], **kwargs)
    services.fund_claim_submit(user=a, claim=draft_a)
    response = api_as(b).post(f"/api/v1/fund-claims/{draft_b.pk}/submit/", {}, format="json")
    assert response.status_code == 400 and draft_a.reference in response.json()["invoice_number"][0]
    draft_b.refresh_from_db()
    assert draft_b.status == "draft" and draft_b.reimbursable_amount == 0
    fr_b.refresh_from_db()
    assert fr_b.reserved == 0


def test_a_rejected_claim_still_holds_its_invoice(two_partners):
    (first, a, fr_a), (second, b, fr_b) = two_partners
    claim = submitted_claim(fr_a, user=a, invoice="R-1")
    services.fund_claim_reject(user=marketing_staff(), claim=claim, reason="Duplicate of a direct deal")
    response = api_as(b).post("/api/v1/fund-claims/", _claim_payload(fr_b, "R-1"), format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "upload, why",
    [
        (SimpleUploadedFile("big.pdf", b"x" * 2048, content_type="application/pdf"), "at most"),
        (SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdownload"), "not allowed"),
        (SimpleUploadedFile("fake.pdf", b"x", content_type="image/png"), "not allowed"),
        (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "empty"),
    ],
)
def test_oversized_or_wrong_type_files_are_400_with_nothing_written(two_partners, monkeypatch, upload, why):
    (first, a, fr_a), _ = two_partners
    monkeypatch.setattr(services, "MAX_PROOF_BYTES", 1024)
    draft = services.fund_claim_create(
        user=a, fund_request=fr_a, vendor="V", invoice_number="F-1", invoice_date=timezone.localdate(), amount=10
    )
    response = api_as(a).post(f"/api/v1/fund-claims/{draft.pk}/files/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and why in response.json()["file"][0]
    assert ClaimFile.objects.count() == 0


def test_proof_is_downloaded_through_the_access_policy(two_partners, client):
    (first, a, fr_a), (second, b, fr_b) = two_partners
    claim = submitted_claim(fr_a, user=a)
    stored = claim.files.get()
    response = api_as(a).get(f"/api/v1/fund-claims/{claim.pk}/files/{stored.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(marketing_staff())
    page = client.get(f"/portal/marketing/claims/{claim.pk}/")
    assert page.status_code == 200 and stored.filename in page.content.decode()
    assert client.get(f"/portal/marketing/claims/{claim.pk}/files/{stored.pk}/").status_code == 200
    client.force_login(b)
    assert client.get(f"/portal/marketing/claims/{claim.pk}/files/{stored.pk}/").status_code == 404
