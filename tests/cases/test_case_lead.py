"""A case from a lead of the shared system links the lead itself, within the access policy."""

import re

import pytest

from cases.models import Case
from partners.access import ParentRole, PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import api_as
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.deals import LeadFactory

pytestmark = pytest.mark.django_db

PAYLOAD = {"origin": "lead", "category": "sales_inquiry", "subject": "Wants a demo"}


def test_partner_opens_a_case_about_its_lead():
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    agent = partner_user(partner, PartnerRole.SUPPORT)
    lead = LeadFactory(partner=partner, status="accepted", company_name="Olympia Beauty")
    response = api_as(agent).post("/api/v1/cases/", {**PAYLOAD, "lead": lead.pk}, format="json")
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    assert case.lead == lead and case.partner == partner
    assert "Olympia Beauty" in case.lead_reference


def test_another_partners_lead_is_a_400_that_reveals_nothing():
    partner = PartnerFactory()
    agent = partner_user(partner, PartnerRole.SUPPORT)
    foreign = LeadFactory(partner=PartnerFactory(), status="accepted")
    before = Case.objects.count()
    response = api_as(agent).post("/api/v1/cases/", {**PAYLOAD, "lead": foreign.pk}, format="json")
    missing = api_as(agent).post("/api/v1/cases/", {**PAYLOAD, "lead": 999999}, format="json")
    assert response.status_code == missing.status_code == 400
    same = [re.sub(r"\d+", "N", m) for m in response.json()["lead"]]
    assert same == [re.sub(r"\d+", "N", m) for m in missing.json()["lead"]]
    assert Case.objects.count() == before


def test_parent_case_about_a_partner_lead_involves_that_partner():
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    lead = LeadFactory(partner=partner, status="accepted")
    support = parent_user(ParentRole.SUPPORT)
    response = api_as(support).post("/api/v1/cases/", {**PAYLOAD, "lead": lead.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert Case.objects.get(pk=response.json()["id"]).partner == partner


def test_portal_case_form_offers_only_visible_leads():
    from django.test import Client

    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    agent = partner_user(partner, PartnerRole.SUPPORT)
    mine = LeadFactory(partner=partner, status="accepted", company_name="Visible Lead Co")
    LeadFactory(partner=PartnerFactory(), status="accepted", company_name="Hidden Lead Co")
    client = Client()
    client.force_login(agent)
    body = client.get("/portal/cases/new/").content.decode()
    assert "Visible Lead Co" in body and "Hidden Lead Co" not in body
    response = client.post("/portal/cases/new/", {**PAYLOAD, "lead": mine.pk, "priority": "normal"})
    assert response.status_code == 302
    assert Case.objects.get(lead=mine).partner == partner
