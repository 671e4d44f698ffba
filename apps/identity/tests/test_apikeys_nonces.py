"""The nonce stores: a nonce is refused within its window, and forgotten after it."""

import secrets
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.identity.apikeys import nonces
from apps.identity.models import ApiKeyNonce


@pytest.fixture(params=["redis://127.0.0.1:6379/0", nonces.POSTGRESQL])
def store(request, settings, db):
    settings.CLOUDMGR_API_KEY_NONCE_STORE = request.param
    return request.param


def test_a_nonce_is_accepted_once_within_its_window(store):
    nonce = secrets.token_hex(12)
    until = timezone.now() + timedelta(seconds=30)
    assert nonces.first_use("CMKTESTNONCES", nonce, until) is True
    assert nonces.first_use("CMKTESTNONCES", nonce, until) is False
    assert nonces.first_use("CMKOTHERKEY", nonce, until) is True


def test_a_postgresql_nonce_past_its_window_is_taken_over_and_then_purged(settings, db):
    settings.CLOUDMGR_API_KEY_NONCE_STORE = nonces.POSTGRESQL
    until = timezone.now() + timedelta(seconds=30)
    assert nonces.first_use("CMKTESTNONCES", "nonce-0123456789", until) is True
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        later = timezone.now() + timedelta(seconds=30)
        assert nonces.first_use("CMKTESTNONCES", "nonce-0123456789", later) is True
        assert nonces.first_use("CMKTESTNONCES", "nonce-other-01234", timezone.now() - timedelta(seconds=1))
        assert nonces.purge_expired() == 1
    assert list(ApiKeyNonce.objects.values_list("key", flat=True)) == [
        "cloudmgr:api-key-nonce:CMKTESTNONCES:nonce-0123456789"
    ]


def test_without_a_setting_the_store_is_the_broker_when_it_is_redis(settings):
    settings.CLOUDMGR_API_KEY_NONCE_STORE = ""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/3"
    assert nonces.configured_store() == "redis://127.0.0.1:6379/3"
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"
    assert nonces.configured_store() == nonces.POSTGRESQL
