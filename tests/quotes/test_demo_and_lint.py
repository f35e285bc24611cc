import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from quotes.models import Order, OrderStatus, Quote, QuoteStatus

pytestmark = pytest.mark.django_db


def test_demo_has_quotes_and_orders_in_every_state_and_is_idempotent():
    from partners import demo as partners_demo
    from quotes import demo

    context = partners_demo.seed()
    demo.seed(context)
    counts = (Quote.objects.count(), Order.objects.count())
    demo.seed(context)
    assert (Quote.objects.count(), Order.objects.count()) == counts
    assert set(Quote.objects.values_list("status", flat=True)) == set(QuoteStatus.values)
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    declined = Order.objects.get(status="declined")
    assert declined.decline_reason
    assert Order.objects.get(status="in_review").review_reasons
    wingtip_quote = Quote.objects.filter(partner__slug="wingtip", status="sent").first()
    from quotes.documents import render_quote_document

    assert settings.PARENT_COMPANY_NAME not in render_quote_document(wingtip_quote)
    # The white-label partner's own service is on its document, outside the parent's total.
    assert "Onboarding workshop by Wingtip" in render_quote_document(wingtip_quote)
    assert wingtip_quote.services_total == 800


def test_views_api_admin_and_selectors_read_tenant_models_only_through_the_scope():
    root = Path(__file__).resolve().parents[2] / "quotes"
    tenant_models = [m.__name__ for m in apps.get_app_config("quotes").get_models()] + [
        "Customer",
        "Partner",
        "CustomerRelationship",
    ]
    pattern = re.compile(r"\b(" + "|".join(tenant_models) + r")\.objects\.(?!for_user\(|for_partner\()")
    offenders = []
    for path in [*root.glob("api/*.py"), root / "views.py", root / "admin.py", root / "selectors.py"]:
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(text):
                offenders.append(f"{path.name}:{number}: {text.strip()}")
    assert offenders == []
