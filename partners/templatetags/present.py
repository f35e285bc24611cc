"""Template filters of the presentation layer (partners.presentation), loaded on every template."""

from django import template

from partners import presentation
from partners.choices import country_name

register = template.Library()

register.filter("money", presentation.money)
register.filter("number", presentation.number)
register.filter("percent", presentation.percent)
register.filter("day", presentation.day)
register.filter("when", presentation.when)
register.filter("label", presentation.label)
register.filter("sentence", presentation.activity_sentence)
register.filter("country", country_name)


@register.filter
def ago(value):
    """ "in 3 days" / "2 hours ago"."""
    return presentation.relative(value)


@register.filter(name="person")
def person_filter(user, fallback="Someone"):
    return presentation.person(user, fallback=fallback)


@register.filter
def change(value):
    """An audit change [before, after] in words: "Submitted → Approved"."""
    if isinstance(value, list | tuple) and len(value) == 2:
        before, after = (presentation.label(v) if v not in (None, "") else "—" for v in value)
        return f"{before} → {after}"
    return presentation.label(value)
