"""API tokens (django-rest-knox: only a SHA-512 digest is stored, each token expires after TOKEN_TTL).

A token dies when its user changes password, is deactivated, or its partner is suspended or
terminated; its owner lists and revokes their tokens in the portal (partners.token_views)."""

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from knox.models import AuthToken


def token_issue(*, user) -> tuple[AuthToken, str]:
    """A new token for `user`; the clear text is returned once and never stored."""
    return AuthToken.objects.create(user=user)


def tokens_of(*, user):
    """The caller's live tokens, newest first (expired ones are dropped on the way)."""
    from django.utils import timezone

    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.filter(user=user).order_by("-created")


def token_revoke(*, user, token_key: str) -> int:
    """Revoke the caller's own token(s) with this key prefix; returns how many were revoked."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted


def tokens_revoke_all(*, user) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


def tokens_revoke_for_partner(*, partner) -> int:
    """Every token of the partner's people, when the partner is suspended or terminated."""
    deleted, _ = AuthToken.objects.filter(user__membership__partner=partner).delete()
    return deleted


def _revoke_on_credential_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """A changed password or a deactivation ends every token of the account."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        AuthToken.objects.filter(user_id=instance.pk).delete()


def connect():
    pre_save.connect(
        _revoke_on_credential_change, sender=get_user_model(), dispatch_uid="prm.security.tokens.credentials"
    )
