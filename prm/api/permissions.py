from rest_framework.permissions import BasePermission

from partners.access import actor_of


class HasPortalAccess(BasePermission):
    """Signed in, and either parent staff or a member of a partner that is not suspended or terminated."""

    message = "Your partner account is suspended or terminated."

    def has_permission(self, request, view):
        return not actor_of(request.user).is_blocked
