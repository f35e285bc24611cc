"""Factories for the cases app. A case's queue, comments and attachments keep the case's partner."""

import datetime

import factory

from cases.models import (
    BusinessCalendar,
    Case,
    CaseCategory,
    CaseComment,
    CaseOrigin,
    CaseQueue,
    CommentVisibility,
    Party,
    QueueKind,
    RoutingRule,
    SlaPolicy,
)
from partners.agreement import ServiceModel
from tests.factories import PartnerFactory, customer_of


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Calendar {n}")
    time_zone = "Europe/Berlin"
    weekdays = "0,1,2,3,4"
    opens_at = datetime.time(9, 0)
    closes_at = datetime.time(17, 0)


class CaseQueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseQueue

    name = factory.Sequence(lambda n: f"Queue {n}")
    kind = QueueKind.PARTNER
    partner = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind != QueueKind.PARENT), factory.SubFactory(PartnerFactory), None
    )


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    name = factory.LazyAttribute(lambda o: f"{o.priority} SLA")
    priority = "normal"
    first_response_minutes = 120
    resolution_minutes = 960
    warn_before_minutes = 60


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    order = factory.Sequence(lambda n: n + 1)


class CaseFactory(factory.django.DjangoModelFactory):
    """A case of `partner` about one of its customers, in the partner's queue (or the parent's,
    under the parent-only model). Prefer services.case_open in behaviour tests."""

    class Meta:
        model = Case

    partner = factory.SubFactory(PartnerFactory)
    customer = factory.LazyAttribute(lambda o: customer_of(o.partner) if o.partner else None)
    origin = CaseOrigin.PARTNER
    category = CaseCategory.TECHNICAL
    subject = factory.Sequence(lambda n: f"Case {n}")
    service_model = factory.LazyAttribute(
        lambda o: o.partner.agreement.service_model if o.partner else ServiceModel.PARENT_ONLY
    )
    owner_party = factory.LazyAttribute(
        lambda o: Party.PARENT if o.service_model == ServiceModel.PARENT_ONLY else Party.PARTNER
    )
    queue = factory.LazyAttribute(
        lambda o: (
            CaseQueueFactory(kind=QueueKind.PARENT, partner=None)
            if o.owner_party == Party.PARENT
            else CaseQueueFactory(kind=QueueKind.PARTNER, partner=o.partner)
        )
    )


class CaseCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseComment

    case = factory.SubFactory(CaseFactory)
    partner = factory.LazyAttribute(lambda o: o.case.partner)
    author_party = Party.PARTNER
    visibility = CommentVisibility.SHARED
    body = factory.Sequence(lambda n: f"Comment {n}")
