"""How API callers are identified and limited: knox tokens, and throttles keyed on the real client
address (prm.security.client_ip) or the account. Kept free of view imports (DRF loads it from settings)."""

import binascii
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from partners.access import ACCESS_GENERATION_KEY, access_generation, actor_of
from prm.security.client_ip import client_ip

# The user model's username holds 150 characters; longer is a 400, never a lookup or a lockout row.
USERNAME_MAX = 150


class ClientAddressMixin:
    def get_ident(self, request):
        return client_ip(request)


class AnonThrottle(ClientAddressMixin, AnonRateThrottle):
    """The default anonymous throttle, keyed on the real client address."""


class UserThrottle(ClientAddressMixin, SimpleRateThrottle):
    """The default signed-in throttle (per user; per real address for anonymous callers)."""

    scope = "user"

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AccountLoginThrottle(SimpleRateThrottle):
    """Attempts on one account, whatever address they come from."""

    scope = "login_account"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        account = hashlib.sha256(username.strip().lower()[:USERNAME_MAX].encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": account}


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox tokens; a header that is not valid UTF-8 is a 401 like any other bad token.

    A verified token's user and actor are kept in the shared cache for `API_TOKEN_CACHE_SECONDS`,
    keyed on the token's digest and stamped with the access generation
    (`partners.access.ACCESS_GENERATION_KEY`): a request then costs one cache round trip instead of
    the token, user and membership queries. Revoking the token, suspending the partner or changing
    the person's roles starts a new generation, so the next request checks the database again."""

    def authenticate_credentials(self, token):
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.")
        seconds = getattr(settings, "API_TOKEN_CACHE_SECONDS", 0)
        if not seconds:
            return super().authenticate_credentials(token)
        try:
            key = f"prm:api-token:{hash_token(text)}"
        except (TypeError, ValueError, binascii.Error):
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        found = cache.get_many([key, ACCESS_GENERATION_KEY])
        generation = found.get(ACCESS_GENERATION_KEY) or access_generation()
        entry = found.get(key)
        now = timezone.now()
        if entry is not None and entry["generation"] == generation:
            auth_token = entry["token"]
            if auth_token.expiry is None or auth_token.expiry > now:
                return auth_token.user, auth_token
        user, auth_token = super().authenticate_credentials(token)
        actor_of(user)  # resolved now, so that it is cached with the user
        timeout = seconds
        if auth_token.expiry is not None:
            timeout = min(seconds, max(int((auth_token.expiry - now).total_seconds()), 1))
        cache.set(key, {"generation": generation, "token": auth_token}, timeout=timeout)
        return user, auth_token


class TokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema: `Authorization: Token …`."""

    target_class = "prm.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
