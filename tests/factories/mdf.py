"""MDF factories: a program, an allocation, and requests and claims built through the services so
that the money on them is what the services would have written."""

import datetime
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mdf import services
from mdf.models import FundAllocation, FundProgram
from partners.access import ParentRole, PartnerRole
from tests.factories import parent_user, partner_user


class FundProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundProgram
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Program {n}")
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))
    budget = Decimal("1000000.00")


class FundAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundAllocation

    program = factory.SubFactory(FundProgramFactory)
    amount = Decimal("10000.00")


_counter = {"n": 0}


def proof(content: bytes | None = None, name="invoice.pdf", content_type="application/pdf"):
    """A proof file with unique content (every test file hashes differently unless told otherwise)."""
    if content is None:
        _counter["n"] += 1
        content = f"%PDF-1.4 proof {_counter['n']} {timezone.now().isoformat()}".encode()
    return SimpleUploadedFile(name, content, content_type=content_type)


def marketing_staff(**fields):
    return parent_user(ParentRole.MARKETING, **fields)


def finance_staff(**fields):
    return parent_user(ParentRole.FINANCE, **fields)


def approved_request(partner, *, user=None, amount="1000.00", percent="50", allocation=None, approver=None, **fields):
    user = user or partner_user(partner, PartnerRole.MARKETING)
    allocation = allocation or FundAllocation.objects.filter(partner=partner).first()
    if allocation is None:
        allocation = FundAllocationFactory(partner=partner)
    today = timezone.localdate()
    values = {
        "title": "Webinar",
        "activity_type": "webinar",
        "plan": "A webinar",
        "starts_on": today - datetime.timedelta(days=5),
        "ends_on": today - datetime.timedelta(days=1),
        "requested_amount": Decimal(amount),
    } | fields
    fund_request = services.fund_request_create(user=user, allocation=allocation, submit=True, **values)
    approver = approver or marketing_staff()
    return services.fund_request_approve(
        user=approver, fund_request=fund_request, reimbursement_percent=Decimal(percent)
    )


def submitted_claim(fund_request, *, user=None, amount="400.00", vendor="Acme Events", invoice=None, **fields):
    user = user or fund_request.created_by
    _counter["n"] += 1
    return services.fund_claim_create(
        user=user,
        fund_request=fund_request,
        vendor=vendor,
        invoice_number=invoice or f"INV-{_counter['n']}",
        invoice_date=timezone.localdate() - datetime.timedelta(days=1),
        amount=Decimal(amount),
        files=[proof()],
        submit=True,
        **fields,
    )
