"""factory_boy factories. Children stay with their parent's partner unless a test says otherwise."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from partners.access import PartnerRole
from partners.agreement import PRESETS, BusinessModel
from partners.models import (
    Agreement,
    Customer,
    CustomerRelationship,
    Membership,
    Partner,
    PartnerStatus,
    ProductLine,
    ProgramTier,
    RelationshipKind,
    Territory,
)
from quotes.models import Product

PASSWORD = "test-pass-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProgramTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramTier
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n + 10)


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLine
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"line-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class PartnerFactory(factory.django.DjangoModelFactory):
    """A partner with its business model's agreement (the preset)."""

    class Meta:
        model = Partner
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    business_model = BusinessModel.REGISTRATION_RETENTION
    country = "US"
    status = PartnerStatus.ACTIVE
    tier = factory.SubFactory(ProgramTierFactory, name="Gold", rank=3)

    @factory.post_generation
    def agreement(obj, create, extracted, **overrides):
        if not create:
            return
        values = dict(PRESETS[BusinessModel(obj.business_model)]) | overrides
        Agreement.objects.update_or_create(partner=obj, defaults=values)

    @factory.post_generation
    def territories(obj, create, extracted, **kwargs):
        if create:
            for country in extracted or [obj.country]:
                Territory.objects.get_or_create(partner=obj, country=country)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)
    role = PartnerRole.REP


def partner_user(partner, role=PartnerRole.REP, **user_fields):
    return MembershipFactory(partner=partner, role=role, user=UserFactory(**user_fields)).user


def parent_user(*roles, superuser=False, partners=(), **user_fields):
    """A parent-staff user in the given role groups; channel managers get `partners` granted."""
    from guardian.shortcuts import assign_perm

    user = UserFactory(is_staff=True, is_superuser=superuser, **user_fields)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    for partner in partners:
        assign_perm("partners.manage_partner", user, partner)
    return user


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    legal_name = factory.Sequence(lambda n: f"Customer {n} Inc")
    domain = factory.Sequence(lambda n: f"customer{n}.example")
    country = "US"


class CustomerRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerRelationship

    customer = factory.SubFactory(CustomerFactory)
    partner = factory.SubFactory(PartnerFactory)
    kind = RelationshipKind.ORIGINATING


def customer_of(partner, owner=None, **fields):
    """A customer with an originating relationship to `partner`, managed by `owner`."""
    customer = CustomerFactory(**fields)
    CustomerRelationshipFactory(customer=customer, partner=partner, owner=owner)
    return customer


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    product_line = factory.SubFactory(ProductLineFactory)
    unit = "seat_month"
    list_price = Decimal("10.00")
