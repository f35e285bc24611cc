"""Token authentication for the API: `POST /api/v1/auth/token/` with {"username", "password"} gives
{"token"} (plus its expiry), sent as `Authorization: Token …`.

Throttled per real client address (prm.security.client_ip) and per account; a django-axes lockout
answers 429 here as on the portal and admin login."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from prm.security import tokens

from .authentication import USERNAME_MAX, AccountLoginThrottle, AnonThrottle
from .base import ErrorSerializer, ValidationErrorSerializer

PASSWORD_MAX = 4096


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=USERNAME_MAX, trim_whitespace=False)
    password = serializers.CharField(max_length=PASSWORD_MAX, trim_whitespace=False, style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class LockedOut(exceptions.Throttled):
    default_detail = "Too many failed attempts; try again later."
    default_code = "locked_out"


class TokenView(APIView):
    """Exchange a username and password for an API token (`Authorization: Token …`). Tokens expire;
    list and revoke yours in the portal (Profile → API tokens)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [AnonThrottle, AccountLoginThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(ValidationErrorSerializer, description="Wrong credentials or missing fields."),
            429: OpenApiResponse(ErrorSerializer, description="Too many attempts, or locked out."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            raise LockedOut()
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}, code="authorization"
            )
        instance, token = tokens.token_issue(user=user)
        return Response({"token": token, "expiry": instance.expiry})
