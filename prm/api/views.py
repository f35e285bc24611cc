from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.throttling import AnonRateThrottle

from .base import ErrorSerializer, ValidationErrorSerializer
from .errors import error_response


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (`Authorization: Token …`)."""

    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(ValidationErrorSerializer, description="Wrong credentials or missing fields."),
            429: OpenApiResponse(ErrorSerializer, description="Too many attempts."),
        },
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # django-axes marks the request it authenticated (here DRF's wrapper, which its
            # middleware never sees): a locked-out username and address answer 429, as on the portal.
            if getattr(request, "axes_locked_out", False) or getattr(request._request, "axes_locked_out", False):
                return error_response(
                    "Too many failed attempts; try again later.", "locked_out", status.HTTP_429_TOO_MANY_REQUESTS
                )
            raise
