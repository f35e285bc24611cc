from django.conf import settings

from .access import actor_of
from .branding import brand_for_request


def portal(request):
    """The caller's actor and the brand to show: a white-label partner's users (signed in or on its
    sign-in page) see only their partner's; and the count of their unread notifications."""
    actor = actor_of(getattr(request, "user", None))
    brand = brand_for_request(request)
    parent_name = brand.parent_company_name
    unread = 0
    if actor.has_access:
        from .models import Notification

        unread = Notification.objects.for_user(request.user).unread().count()
    return {
        "actor": actor,
        "brand": brand,
        "parent_company_name": parent_name,
        "parent_currency": settings.PARENT_CURRENCY,
        "unread_notifications": unread,
    }
