"""When two registrations (or a registration and a customer or opportunity) are the same deal.

Same country, and the same company name after normalisation (case, punctuation, accents, legal
suffixes) or the same registrable web domain (``www.`` and subdomains ignored); and, when both
sides name products, at least one product in common. Matching is within one country: a company's
subsidiary in another country is another customer for registration purposes.
"""

from dataclasses import dataclass, field

from partners.matching import normalize_company_name, registrable_domain


def customer_keys(name: str, domain: str) -> tuple[str, str]:
    """(normalized name, registrable domain) of a customer as a registration names it."""
    return normalize_company_name(name), registrable_domain(domain)


@dataclass(frozen=True)
class DealKey:
    """The matching keys of one side: country, normalized name, registrable domain, product ids
    (empty when the side names no products, e.g. a customer)."""

    country: str
    name: str
    domain: str
    products: frozenset = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, name: str, domain: str, country: str, products=()) -> "DealKey":
        normalized, domain_key = customer_keys(name, domain)
        return cls((country or "").upper(), normalized, domain_key, frozenset(products))

    def lock_keys(self) -> list[str]:
        """The RegistrationLock keys that serialise every transaction about this customer."""
        keys = [f"name:{self.country}:{self.name}"]
        if self.domain:
            keys.append(f"domain:{self.country}:{self.domain}")
        return sorted(keys)


def match_reasons(a: DealKey, b: DealKey) -> list[str]:
    """Why `a` and `b` are the same deal (["name"], ["domain", "product"]…), or [] if they are not."""
    if not a.country or a.country != b.country:
        return []
    reasons = []
    if a.name and a.name == b.name:
        reasons.append("name")
    if a.domain and a.domain == b.domain:
        reasons.append("domain")
    if not reasons:
        return []
    if a.products and b.products:
        if not a.products & b.products:
            return []
        reasons.append("product")
    return reasons
