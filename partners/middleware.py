import uuid

from prm.security.client_ip import client_ip

from .audit import reset_request_context, set_request_context


class RequestContextMiddleware:
    """Gives every request an id (X-Request-ID, or a new one) and records its IP for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        token = set_request_context(request_id=request_id, ip_address=client_ip(request) or None)
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id
        return response
