"""The conflict matcher on name and domain variants, and near-misses that must not match."""

import pytest

from deals.matching import DealKey, match_reasons

BASE = {"name": "Contoso Ltd", "domain": "contoso.com", "country": "DE", "products": (1,)}

# (description, other side, expected reasons)
CASES = [
    ("exact same", BASE, ["name", "domain", "product"]),
    ("case", {**BASE, "name": "CONTOSO LTD", "domain": ""}, ["name", "product"]),
    ("punctuation", {**BASE, "name": "Contoso, Ltd.", "domain": ""}, ["name", "product"]),
    ("legal suffix GmbH", {**BASE, "name": "Contoso GmbH", "domain": ""}, ["name", "product"]),
    ("legal suffix Inc", {**BASE, "name": "Contoso Inc", "domain": ""}, ["name", "product"]),
    ("legal suffix LLC", {**BASE, "name": "Contoso LLC", "domain": ""}, ["name", "product"]),
    ("hyphenated suffix", {**BASE, "name": "contoso-ltd", "domain": ""}, ["name", "product"]),
    ("suffix LIMITED", {**BASE, "name": "contoso limited", "domain": ""}, ["name", "product"]),
    ("dotted G.m.b.H.", {**BASE, "name": "Contoso G.m.b.H.", "domain": ""}, ["name", "product"]),
    ("accents", {**BASE, "name": "Contóso Ltd", "domain": ""}, ["name", "product"]),
    ("leading The", {**BASE, "name": "The Contoso Company", "domain": ""}, ["name", "product"]),
    ("www. domain", {**BASE, "name": "Other Name", "domain": "www.contoso.com"}, ["domain", "product"]),
    ("URL with path", {**BASE, "name": "Other Name", "domain": "https://WWW.Contoso.com/about"}, ["domain", "product"]),
    ("subdomain", {**BASE, "name": "Other Name", "domain": "sales.eu.contoso.com"}, ["domain", "product"]),
    ("email-ish host", {**BASE, "name": "Other Name", "domain": "info@contoso.com"}, ["domain", "product"]),
    ("one common product of several", {**BASE, "products": (7, 1, 9)}, ["name", "domain", "product"]),
    ("no products named (customer)", {**BASE, "products": ()}, ["name", "domain"]),
    # Near-misses: must not match.
    ("other country", {**BASE, "country": "AT"}, []),
    ("longer name", {**BASE, "name": "Contoso Pharma", "domain": ""}, []),
    ("similar name", {**BASE, "name": "Contosso Ltd", "domain": ""}, []),
    ("other TLD", {**BASE, "name": "Other Name", "domain": "contoso.de"}, []),
    ("domain containing the name", {**BASE, "name": "Other Name", "domain": "notcontoso.com"}, []),
    ("name as subdomain of another", {**BASE, "name": "Other Name", "domain": "contoso.example.com"}, []),
    ("no common product", {**BASE, "products": (2, 3)}, []),
    ("both empty domains, other name", {**BASE, "name": "Fabrikam", "domain": ""}, []),
]


@pytest.mark.parametrize("description, other, expected", CASES, ids=[c[0] for c in CASES])
def test_matcher(description, other, expected):
    a = DealKey.of(**BASE)
    b = DealKey.of(**other)
    assert match_reasons(a, b) == expected
    # The relation is symmetric.
    assert match_reasons(b, a) == expected


def test_uk_registrable_domain_and_empty_keys():
    a = DealKey.of(name="Adventure Works", domain="shop.adventure-works.co.uk", country="GB")
    b = DealKey.of(name="AW Cycles", domain="www.adventure-works.co.uk", country="GB")
    c = DealKey.of(name="AW Cycles", domain="other.co.uk", country="GB")
    assert match_reasons(a, b) == ["domain"]
    assert match_reasons(a, c) == []
    empty = DealKey.of(name="", domain="", country="GB")
    assert match_reasons(empty, DealKey.of(name="", domain="", country="GB")) == []
