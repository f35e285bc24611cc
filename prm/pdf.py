"""HTML to PDF with WeasyPrint, for documents the portal already renders as HTML (quote documents,
co-branded collateral). The renderer fetches nothing from the network: images come only from data:
URIs, the app's static files and the partners' logos in storage, so a document cannot be made to call
out (SSRF) and renders the same offline. The PDF's metadata (title, author) comes from the HTML's
<title> and <meta name="author">, which the templates fill with the brand the document carries."""

import base64
import mimetypes
import re
import urllib.parse

from django.conf import settings
from django.contrib.staticfiles import finders

# Relative URLs of the HTML resolve against this host, which is never contacted.
BASE_URL = "http://document.invalid/"
LOGO_PATH = re.compile(r"^/portal/partners/(?P<slug>[-\w]+)/logo/?$")


def _local_resource(url: str):
    """(bytes, mime type) of a resource the document may embed, or None."""
    if url.startswith("data:"):
        header, _, payload = url[5:].partition(",")
        mime = header.split(";")[0] or "text/plain"
        data = base64.b64decode(payload) if header.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
        return data, mime
    if not url.startswith(BASE_URL):
        return None
    path = "/" + url[len(BASE_URL) :].split("?", 1)[0]
    match = LOGO_PATH.match(path)
    if match:
        from partners.models import Partner

        # The logo of the partner the document is branded for; the calling view checked access.
        partner = Partner.objects.filter(slug=match["slug"]).exclude(logo="").first()  # scope-lint: ok
        if partner is None:
            return None
        with partner.logo.open("rb") as handle:
            return handle.read(), mimetypes.guess_type(partner.logo.name)[0] or "image/png"
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    if path.startswith(static_prefix):
        found = finders.find(path[len(static_prefix) :])
        if found:
            with open(found, "rb") as handle:
                return handle.read(), mimetypes.guess_type(found)[0] or "application/octet-stream"
    return None


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            found = _local_resource(url)
            if found is None:
                raise ValueError(f"Not fetched while rendering a PDF: {url}")
            data, mime = found
            return URLFetcherResponse(url, data, {"Content-Type": mime})

    return LocalOnlyFetcher()


def html_to_pdf(html: str) -> bytes:
    """Render an HTML document as PDF (A4 unless its CSS says otherwise)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf()
