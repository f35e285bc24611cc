"""Walk the portal as one person: every page kind reachable by links from the home page (a couple of
each URL name), with what a person reads on it. Used by the words test and the browser tests."""

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from django.urls import Resolver404, resolve

SKIP_NAMES = {"logout", "quote-document", "attachment-download", "partner-logo", "partner-favicon", "case-sla"}
DEMO_USERNAMES = [
    f"{slug}-{role}"
    for slug in ("northwind", "contoso", "fabrikam", "tailspin", "wingtip")
    for role in ("admin", "rep", "support")
] + ["parent-admin", "channel-manager", "parent-support", "parent-finance", "fraud-analyst"]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.text, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "title":
            self.text.append(" ")
        for name in ("title", "aria-label", "placeholder", "alt"):
            if attrs.get(name):
                self.text.append(f" {attrs[name]} ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        self.text.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def read(html: str) -> tuple[str, list[str]]:
    page = _Page()
    page.feed(html)
    return re.sub(r"\s+", " ", "".join(page.text)), page.links


def portal_links(links, base="/portal/"):
    for href in links:
        href = urldefrag(href)[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith(base):
            continue
        yield href


def crawl(get, *, start="/portal/", per_name=2, limit=60):
    """Yield (url, status, html) for the pages reachable from `start`; `get(url)` returns (status, html)."""
    seen, queue, per = set(), [start], Counter()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            continue
        name = match.url_name or ""
        if name in SKIP_NAMES or per[name] >= per_name:
            continue
        per[name] += 1
        seen.add(url)
        status, html = get(url)
        yield url, status, html
        if status == 200 and html:
            queue.extend(u for u in portal_links(read(html)[1]) if u not in seen)


# What must never reach a person: audit verbs, snake_case state codes, login names, "Done: verb".
RAW_VERB = re.compile(
    r"\b(case|cases|deal_registration|lead|quote|quotes|order|commission|customer|partner|partners|opportunity|"
    r"membership|agreement)\.[a-z_]+\b"
)
SNAKE_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
EMAIL = re.compile(r"\S+@\S+")
USERNAME = re.compile(r"(?<![\w@.-])(" + "|".join(map(re.escape, DEMO_USERNAMES)) + r")(?![\w@-])")


def raw_words(text: str) -> list[str]:
    text = EMAIL.sub(" ", text)
    found = [m.group(0) for m in RAW_VERB.finditer(text)]
    found += [m.group(0) for m in SNAKE_CODE.finditer(text)]
    found += [m.group(0) for m in USERNAME.finditer(text)]
    if "Done:" in text:
        found.append("Done:")
    return found
