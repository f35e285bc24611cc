from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle

from .base import ErrorSerializer, ValidationErrorSerializer


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
        return super().post(request, *args, **kwargs)
