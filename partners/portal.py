"""What the portal's layout is made of: navigation entries and home-page figures that each domain
app registers from its AppConfig.ready(), so the layout links only what exists."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    order: int = 100
    visible: Callable = lambda actor: True  # noqa: E731
    # Sorted right after Home for the people it is the main work of (support agents: Cases).
    lead_for: Callable = lambda actor: False  # noqa: E731


@dataclass(frozen=True)
class HomeCard:
    """A figure on the home page: compute(user) returns a list of (label, value, url or None)."""

    title: str
    compute: Callable
    order: int = 100
    visible: Callable = lambda actor: True  # noqa: E731


@dataclass(frozen=True)
class Todo:
    """Work waiting on the person: compute(user) returns [(sentence, count, url)]; shown when count > 0."""

    name: str
    compute: Callable
    order: int = 100


NAV: list[NavEntry] = []
HOME_CARDS: list[HomeCard] = []
TODOS: list[Todo] = []


def register_todo(todo: Todo) -> None:
    if todo.name not in {t.name for t in TODOS}:
        TODOS.append(todo)
        TODOS.sort(key=lambda t: t.order)


def register_nav(entry: NavEntry) -> None:
    if entry.url_name not in {e.url_name for e in NAV}:
        NAV.append(entry)
        NAV.sort(key=lambda e: e.order)


def register_home_card(card: HomeCard) -> None:
    if card.title not in {c.title for c in HOME_CARDS}:
        HOME_CARDS.append(card)
        HOME_CARDS.sort(key=lambda c: c.order)


# Who uses what: the menu shows a person only what their role and their partner's agreement let them
# use (typing the address still answers 404/403 as the views decide). Apps pass these as `visible`.
SELLING = ("admin", "manager", "rep")
SUPPORTING = ("admin", "manager", "support")


def _parent(actor, *roles) -> bool:
    return actor.is_parent and (not roles or actor.has_parent_role(*roles))


def sells(actor) -> bool:
    return (actor.is_partner and actor.role in SELLING) or _parent(actor, "Channel manager", "Sales", "Marketing")


def sells_or_markets(actor) -> bool:
    return sells(actor) or (actor.is_partner and actor.role == "marketing")


def earns_commission(actor) -> bool:
    if actor.is_partner:
        agreement = actor.agreement
        margin_only = agreement.commission_model == "margin" and not agreement.renewal_commission
        return actor.role in SELLING and not margin_only
    return _parent(actor, "Channel manager", "Finance")


def quotes(actor) -> bool:
    return (actor.is_partner and actor.role in SELLING) or _parent(actor, "Channel manager", "Sales", "Finance")


def orders(actor) -> bool:
    if actor.is_partner:
        return actor.role in (*SELLING, "support") and actor.agreement.order_access != "none"
    return _parent(actor, "Channel manager", "Sales", "Finance")


def reviews_orders(actor) -> bool:
    return _parent(actor, "Channel manager", "Sales", "Finance")


def works_cases(actor) -> bool:
    return (actor.is_partner and actor.role != "marketing") or _parent(actor, "Support", "Channel manager", "Sales")


def supports_first(actor) -> bool:
    """Support people find their cases first in the menu."""
    return (actor.is_partner and actor.role == "support") or (
        actor.is_parent and "Support" in actor.parent_roles and not actor.is_parent_admin
    )


def manages_team(actor) -> bool:
    return actor.is_partner and actor.role in ("admin", "manager")
