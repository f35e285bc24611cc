"""Factories of deals. Children keep their parent's partner; creation through services where the
state matters (submit, approve), so that tests see what the product does."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from deals import services
from deals.models import DealRegistration, DealRegistrationLine, Lead, LeadSource, Opportunity, OpportunityFlow
from tests.factories import PartnerFactory, ProductFactory


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    partner = None
    source = LeadSource.CAMPAIGN
    company_name = factory.Sequence(lambda n: f"Lead Company {n}")
    company_domain = factory.Sequence(lambda n: f"leadco{n}.example")
    country = "US"
    contact_name = "Pat Contact"
    contact_email = "pat@contact.example"
    contact_phone = "+1 555 0100"


class DealRegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealRegistration
        skip_postgeneration_save = True

    partner = factory.SubFactory(PartnerFactory)
    customer_name = factory.Sequence(lambda n: f"Prospect {n} Inc")
    customer_domain = factory.Sequence(lambda n: f"prospect{n}.example")
    customer_country = "US"
    estimated_value = Decimal("10000.00")
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))

    @factory.post_generation
    def products(obj, create, extracted, **kwargs):
        if not create:
            return
        for product in extracted or [ProductFactory()]:
            DealRegistrationLine.objects.create(registration=obj, partner=obj.partner, product=product, quantity=5)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    partner = factory.SubFactory(PartnerFactory)
    flow = OpportunityFlow.PARTNER_MANAGED
    managed_by = "partner"
    name = factory.Sequence(lambda n: f"Opportunity {n}")
    amount = Decimal("5000.00")


def registration_of(user, *, name="Acme Inc", domain=None, country="US", products=None, value="10000.00", submit=True):
    """A registration created (and submitted) through the service by a partner user. The domain
    follows the name unless given (one customer is one name and one domain)."""
    from django.utils.text import slugify

    if domain is None:
        domain = "acme.example" if name == "Acme Inc" else f"{slugify(name)}.example"
    products = products or [ProductFactory()]
    return services.deal_registration_create(
        user=user,
        customer_name=name,
        customer_domain=domain,
        customer_country=country,
        estimated_value=Decimal(value),
        expected_close_date=timezone.localdate() + datetime.timedelta(days=60),
        lines=[{"product": p, "quantity": 3} for p in products],
        submit=submit,
    )
