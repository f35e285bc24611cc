"""Where a `next=` parameter may send someone: a path on this site, never another host."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback, *args, **kwargs):
    """Redirect to the request's `next` (POST, then GET) when it stays on this site, else to `fallback`
    (a URL name or path, with its arguments)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback, *args, **kwargs)
