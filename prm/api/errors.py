"""One error body for the whole API.

Every error has "detail" (a sentence) and "code"; a validation error adds its field errors at
the top level, keyed by field name, each a list of messages ("non_field_errors" for the rest).
Django's ValidationError and PermissionDenied raised by services become 400 and 403.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from prm.security.guard import is_input_error, logger
from prm.security.ratelimit import RateLimited


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {
                ("non_field_errors" if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
                for field, errors in exc.error_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RateLimited):
        exc = exceptions.Throttled(wait=exc.wait, detail=exc.message)
    elif is_input_error(exc):
        # What a serializer should have refused (prm.security.guard): a 400, never a 500.
        request = context.get("request")
        logger.warning("input error answered 400 on %s %s", request.method, request.path, exc_info=exc)
        exc = exceptions.ValidationError({"non_field_errors": ["The input could not be processed."]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        body = {"detail": "Invalid input.", "code": "invalid"}
        body.update({key: value if isinstance(value, list | dict) else [value] for key, value in data.items()})
        response.data = body
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code}
    return response


def error_response(message: str, code: str, http_status=status.HTTP_400_BAD_REQUEST):
    return Response({"detail": message, "code": code}, status=http_status)
