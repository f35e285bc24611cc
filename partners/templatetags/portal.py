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
    for entry in sorted(NAV, key=lambda e: (e.order != 0 and not entry_leads(e, actor), e.order)):
        if not entry.visible(actor):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        entries.append({"label": entry.label, "url": url, "active": False})
    # One current entry: the longest address the page is under (Orders, not also Quotes).
    path = getattr(request, "path", "")
    matches = [
        e for e in entries if path == e["url"] or (e["url"] != reverse("portal:home") and path.startswith(e["url"]))
    ]
    if matches:
        max(matches, key=lambda e: len(e["url"]))["active"] = True
    return entries


def entry_leads(entry, actor) -> bool:
    return bool(entry.lead_for(actor))


@register.simple_tag(takes_context=True)
def querystring_with(context, **kwargs):
    """The current query string with some parameters replaced (for pagination links)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in kwargs.items():
        params[key] = value
    return "?" + params.urlencode()
