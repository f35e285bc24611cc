"""Signals other apps listen to.

`claim_submitted(sender=FundClaim, claim=...)` is sent by `services.fund_claim_submitted` inside the
transaction that submits a claim: the analytics app's fraud rules (near-duplicate invoices, velocity)
connect here. A receiver that raises aborts the submission."""

from django.dispatch import Signal

claim_submitted = Signal()
