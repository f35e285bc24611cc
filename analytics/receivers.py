"""What analytics hooks into other apps: the MDF claim's payout keys (what a confirmed alert on a
claim holds) and the fraud check of a submitted claim."""

from django.dispatch import receiver

from mdf.signals import claim_submitted

from . import fraud, holds

# A claim's alerts hold "mdf-claim:<pk>" (rules.py); the generic subject key is held too, so an alert
# raised on the claim by any rule stops its payout.
holds.register_payout_keys("mdf.fundclaim", lambda claim: {f"mdf-claim:{claim.pk}", fraud.subject_key(claim)})


@receiver(claim_submitted, dispatch_uid="analytics.fraud.claim_submitted")
def check_submitted_claim(sender, claim, **kwargs):
    """Runs inside the submitting transaction: the checks are enqueued for after its commit."""
    fraud.check_on_commit("claim_submitted", claim)
