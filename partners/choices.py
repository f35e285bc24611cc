"""Country and currency choices in words (from Babel's CLDR data), for every form that asks for one."""

from functools import cache

from babel import Locale
from babel.numbers import get_currency_name

LOCALE = Locale.parse("en_US")
# Currencies the channel trades in first, then every other current ISO currency.
COMMON_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF")


@cache
def _countries():
    names = {code: name for code, name in LOCALE.territories.items() if len(code) == 2 and code.isalpha()}
    for not_a_country in ("EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"):
        names.pop(not_a_country, None)
    return sorted(names.items(), key=lambda item: item[1])


def country_choices():
    return [("", "Choose a country"), *_countries()]


def country_name(code: str) -> str:
    return LOCALE.territories.get((code or "").upper(), code or "")


@cache
def _currencies():
    from babel.numbers import get_territory_currencies

    in_use = {code for country, _ in _countries() for code in get_territory_currencies(country)}
    current = sorted(code for code in in_use if code in LOCALE.currencies)
    ordered = list(COMMON_CURRENCIES) + [code for code in current if code not in COMMON_CURRENCIES]
    return [(code, f"{code} · {get_currency_name(code, locale=LOCALE)}") for code in ordered]


def currency_choices():
    return list(_currencies())
