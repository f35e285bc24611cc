"""Provisioning adapters: what happens when an approved order is handed off.

`QUOTES_PROVISIONING_ADAPTER` picks one: "record" (the default: fulfilment is recorded at once, for a
parent that provisions by hand or in tests) or "webhook" (a signed JSON event is POSTed to
`QUOTES_PROVISIONING_WEBHOOK_URL`; the body is signed with HMAC-SHA256 of
`QUOTES_PROVISIONING_WEBHOOK_SECRET`, sent as `X-PRM-Signature: sha256=<hex>`). A failed call raises
ProvisioningError; the task retries with exponential backoff, then marks the order failed."""

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings


class ProvisioningError(Exception):
    pass


class RecordingAdapter:
    name = "record"

    def provision(self, *, order, request) -> str:
        return f"recorded:{order.pk}:{request.run}"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_json(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    """POST and return (status, text). Separate so tests can replace the network."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            return response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProvisioningError(f"Could not reach the provisioning endpoint: {exc}") from exc


class WebhookAdapter:
    name = "webhook"

    def __init__(self):
        self.url = getattr(settings, "QUOTES_PROVISIONING_WEBHOOK_URL", "")
        self.secret = getattr(settings, "QUOTES_PROVISIONING_WEBHOOK_SECRET", "")
        self.timeout = float(getattr(settings, "QUOTES_PROVISIONING_WEBHOOK_TIMEOUT", 10))

    def provision(self, *, order, request) -> str:
        if not self.url or not self.secret:
            raise ProvisioningError("The provisioning webhook URL or secret is not configured.")
        body = json.dumps(request.payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-PRM-Signature": sign(body, self.secret),
            "X-PRM-Idempotency-Key": request.payload.get("idempotency_key", ""),
            "X-PRM-Attempt": str(request.attempts),
        }
        status, text = post_json(self.url, body, headers, self.timeout)
        if not 200 <= status < 300:
            raise ProvisioningError(f"The provisioning endpoint answered {status}: {text[:200]}")
        return f"webhook:{status}"


ADAPTERS = {"record": RecordingAdapter, "webhook": WebhookAdapter}


def get_adapter():
    name = getattr(settings, "QUOTES_PROVISIONING_ADAPTER", "record")
    if name not in ADAPTERS:
        raise ProvisioningError(f"Unknown provisioning adapter {name!r}.")
    return ADAPTERS[name]()
