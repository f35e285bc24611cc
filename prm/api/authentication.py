"""How API callers are identified and limited: knox tokens, and throttles keyed on the real client
address (prm.security.client_ip) or the account. Kept free of view imports (DRF loads it from settings)."""

import hashlib

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

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
    """Knox tokens; a header that is not valid UTF-8 is a 401 like any other bad token."""

    def authenticate_credentials(self, token):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


class TokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema: `Authorization: Token …`."""

    target_class = "prm.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
