"""The real client address. `X-Forwarded-For` is believed only for as many hops as there are trusted
proxies in front of the app (setting TRUSTED_PROXY_COUNT, default 0: the header is ignored), so a
client cannot pick the address that rate limits, lockouts and the audit trail key on."""

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # Each trusted proxy appends the address it saw; the client's is the one the outermost proxy added.
    return forwarded[-min(proxies, len(forwarded))]
