"""JSON bodies with limits: at most API_MAX_BODY_BYTES bytes and API_MAX_JSON_DEPTH levels of nesting,
no NaN or Infinity. Anything else is a 400 (413 for a body too large), never a RecursionError."""

import json

from django.conf import settings
from rest_framework import exceptions, parsers


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def _reject_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def json_depth_exceeds(value, limit: int) -> bool:
    """Walk without recursion: True when `value` nests containers deeper than `limit`."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, "API_MAX_BODY_BYTES", 1024 * 1024)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_reject_constant)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.")
        except (ValueError, UnicodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}")
        if json_depth_exceeds(data, getattr(settings, "API_MAX_JSON_DEPTH", 20)):
            raise exceptions.ParseError("JSON parse error - nested too deeply.")
        return data
