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


@dataclass(frozen=True)
class HomeCard:
    """A figure on the home page: compute(user) returns a list of (label, value, url or None)."""

    title: str
    compute: Callable
    order: int = 100


NAV: list[NavEntry] = []
HOME_CARDS: list[HomeCard] = []


def register_nav(entry: NavEntry) -> None:
    if entry.url_name not in {e.url_name for e in NAV}:
        NAV.append(entry)
        NAV.sort(key=lambda e: e.order)


def register_home_card(card: HomeCard) -> None:
    if card.title not in {c.title for c in HOME_CARDS}:
        HOME_CARDS.append(card)
        HOME_CARDS.sort(key=lambda c: c.order)
