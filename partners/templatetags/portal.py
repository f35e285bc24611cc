from django import template
from django.urls import NoReverseMatch, reverse

from partners.access import actor_of
from partners.portal import NAV

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_nav(context):
    """The navigation entries the caller may use, each with its URL and whether it is current."""
    request = context.get("request")
    actor = actor_of(getattr(request, "user", None))
    entries = []
    for entry in NAV:
        if not entry.visible(actor):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        current = request is not None and (
            request.path == url or (url != reverse("portal:home") and request.path.startswith(url))
        )
        entries.append({"label": entry.label, "url": url, "active": current})
    return entries


@register.simple_tag(takes_context=True)
def querystring_with(context, **kwargs):
    """The current query string with some parameters replaced (for pagination links)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in kwargs.items():
        params[key] = value
    return "?" + params.urlencode()
