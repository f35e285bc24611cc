"""The last line: an error that input caused (a number that does not parse or does not fit, a value
the database refuses, nesting too deep to walk) answers 400, never 500, on every page and endpoint.

Views and serializers validate first; this catches what one of them forgot, and logs it so it can be
fixed where it belongs."""

import logging

from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import JsonResponse
from django.template.response import TemplateResponse

from .ratelimit import RateLimited

logger = logging.getLogger("prm.security")

# What bad input raises when nothing validated it first. ArithmeticError covers decimal.InvalidOperation
# and the other DecimalExceptions, OverflowError and ZeroDivisionError.
INPUT_ERRORS = (ValidationError, ValueError, ArithmeticError, RecursionError, DataError, UnicodeError)


def is_input_error(exc) -> bool:
    return isinstance(exc, INPUT_ERRORS)


def messages_of(exc) -> dict:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
        return {"non_field_errors": exc.messages}
    return {"non_field_errors": ["The input could not be processed."]}


def _has_nul(request) -> bool:
    if "\x00" in request.path or any("\x00" in v for values in request.GET.lists() for v in values[1]):
        return True
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        return any("\x00" in v for values in request.POST.lists() for v in values[1])
    return False


class InputErrorGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            # PostgreSQL cannot store or compare a NUL character; no form or filter needs one.
            body = {"non_field_errors": ["The input contains a NUL character."]}
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Invalid input.", "code": "invalid", **body}, status=400)
            return TemplateResponse(request, "400.html", {"errors": body}, status=400).render()
        return self.get_response(request)

    def process_exception(self, request, exc):
        if isinstance(exc, RateLimited):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": exc.message, "code": "throttled"}, status=429)
            return TemplateResponse(request, "429.html", {"message": exc.message}, status=429).render()
        if not is_input_error(exc):
            return None
        logger.warning("input error answered 400 on %s %s", request.method, request.path, exc_info=exc)
        body = messages_of(exc)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "Invalid input.", "code": "invalid", **body}, status=400)
        response = TemplateResponse(request, "400.html", {"errors": body}, status=400)
        return response.render()
