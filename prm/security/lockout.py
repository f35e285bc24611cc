"""What a django-axes lockout answers: 429, in the API's error shape under /api/, else a page."""

from django.http import JsonResponse
from django.template.response import TemplateResponse


def lockout_response(request, original_response=None, credentials=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Too many failed attempts; try again later.", "code": "locked_out"}, status=429)
    return TemplateResponse(request, "429.html", {}, status=429).render()
