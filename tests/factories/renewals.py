"""Factories for contracts and renewals. A contract's lines and renewals keep its partner."""

import datetime
from decimal import Decimal

from django.utils import timezone

from renewals.models import Contract, ContractLine
from tests.factories import CustomerFactory, ProductFactory


def contract_for(
    partner,
    customer=None,
    *,
    product=None,
    quantity=10,
    unit_price=Decimal("100.00"),
    term_end=None,
    originating_partner=None,
    term_months=12,
    **fields,
):
    """A live contract of one product line with one line for its current term."""
    product = product or ProductFactory()
    term_end = term_end or timezone.localdate() + datetime.timedelta(days=200)
    term_start = term_end - datetime.timedelta(days=364)
    value = (unit_price * quantity).quantize(Decimal("0.01"))
    contract = Contract.objects.create(
        partner=partner,
        originating_partner=originating_partner or partner,
        customer=customer or CustomerFactory(),
        product_line=product.product_line,
        term_start=term_start,
        term_end=term_end,
        annual_value=value,
        **fields,
    )
    ContractLine.objects.create(
        contract=contract,
        partner=partner,
        product=product,
        quantity=quantity,
        unit_price=unit_price,
        term_start=term_start,
        term_end=term_end,
        annual_value=value,
        amount=value,
    )
    return contract
