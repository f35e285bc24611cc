import pytest

from analytics import fraud
from analytics.models import FraudAlert, FraudRule
from partners.access import ParentRole
from tests.factories import parent_user


@pytest.fixture
def analyst(db):
    return parent_user(ParentRole.FRAUD_ANALYST, username="analyst")


@pytest.fixture
def finance(db):
    return parent_user(ParentRole.FINANCE, username="finance")


def set_thresholds(code, **values):
    fraud.sync_rules()
    rule = FraudRule.objects.get(code=code)
    rule.thresholds = rule.thresholds | values
    rule.save()
    return rule


def alerts(code, **filters):
    return FraudAlert.objects.filter(rule__code=code, **filters)
