"""Normalisation of company names and web domains, so that variants of one customer match."""

import re
import unicodedata

# Legal-form suffixes that do not distinguish one company from another.
LEGAL_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "plc",
    "pty",
    "pte",
    "kk",
    "sl",
    "sro",
    "zoo",
    "the",
}
# Second-level labels under which the registrable domain has three labels (example.co.uk).
SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"}


def normalize_company_name(name: str) -> str:
    """'Contoso, Ltd.' and 'CONTOSO LIMITED' and 'Contóso' all become 'contoso'."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("&", " and ")
    # Join dotted abbreviations first so that "G.m.b.H." is one word.
    text = re.sub(r"\b(\w)\.(?=\w\.)", r"\1", text)
    text = re.sub(r"[^\w\s]", " ", text)
    words = [w for w in text.split() if w]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def normalize_domain(value: str) -> str:
    """'https://WWW.Sales.Contoso.com/path' becomes 'sales.contoso.com'."""
    text = (value or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.split("@")[-1].split(":", 1)[0].strip(".")
    if text.startswith("www."):
        text = text[4:]
    return text


def registrable_domain(value: str) -> str:
    """The part of a domain that an organisation registers: 'eu.shop.contoso.co.uk' is 'contoso.co.uk'."""
    labels = normalize_domain(value).split(".")
    labels = [label for label in labels if label]
    if len(labels) <= 2:
        return ".".join(labels)
    if labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
