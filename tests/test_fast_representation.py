"""The API's serializers render with a precomputed plan per serializer (prm.api.serializers
.FastRepresentationMixin, issue 13). Its output must be DRF's, byte for byte: every list endpoint, for
a parent admin and a partner admin over the demo channel, answers the same JSON with the plan as with
DRF's own `to_representation`."""

import pytest
from django.core.management import call_command
from rest_framework import serializers

from bench.run import api_list_endpoints
from prm.api.serializers import FastRepresentationMixin
from tests.conftest import api_as


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)


def drf_representation(self, instance):
    return serializers.Serializer.to_representation(self, instance)


@pytest.mark.parametrize("username", ["parent-admin", "tailspin-admin", "wingtip-rep"])
def test_every_list_renders_as_drf_would(seeded, monkeypatch, username):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    checked = 0
    for resource, path, _viewset in api_list_endpoints():
        fast = api_as(user).get(path, {"page_size": 100})
        if fast.status_code != 200:
            continue
        with monkeypatch.context() as patch:
            patch.setattr(FastRepresentationMixin, "to_representation", drf_representation)
            slow = api_as(user).get(path, {"page_size": 100})
        assert fast.content == slow.content, resource
        checked += bool(fast.json().get("results"))
    assert checked >= 10  # lists with rows were compared, not only empty ones
