"""Security signals from every request: refusals (403) and misses (404) of signed-in people, and
API tokens used from an address their user never called from before."""

from django.core.cache import cache
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from prm.security.client_ip import client_ip

from .models import SecurityEvent, SecurityKind, TokenAddress

STATUS_KINDS = {403: SecurityKind.DENIED, 404: SecurityKind.NOT_FOUND}


class SecurityEventMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return response
        ip = client_ip(request) or None
        kind = STATUS_KINDS.get(response.status_code)
        if kind is not None:
            record(kind=kind, user=user, ip=ip, path=request.path)
        auth = getattr(request, "auth", None)
        if ip and isinstance(auth, AuthToken):
            _token_address(user, ip, request.path)
        return response


def _partner_id(user):
    from partners.access import actor_of

    return actor_of(user).partner_id


def record(*, kind, user, ip=None, path="", rows=0):
    return SecurityEvent.objects.create(
        kind=kind, user=user, partner_id=_partner_id(user), ip_address=ip, path=path[:300], rows=rows
    )


def _token_address(user, ip, path):
    known = f"analytics:token-address:{user.pk}:{ip}"
    if cache.get(known):
        return  # seen within the hour: one cache read per request, nothing written
    if TokenAddress.objects.filter(user=user, ip_address=ip).exists():
        cache.set(known, True, timeout=3600)
        return
    first = not TokenAddress.objects.filter(user=user).exists()
    try:
        with transaction.atomic():
            TokenAddress.objects.create(user=user, ip_address=ip)
    except IntegrityError:
        return
    if not first:
        # The first address a token is used from is its home; every later new one is a signal.
        record(kind=SecurityKind.NEW_TOKEN_ADDRESS, user=user, ip=ip, path=path)
