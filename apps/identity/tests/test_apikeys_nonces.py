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


def test_without_a_setting_the_store_is_postgresql_even_when_the_broker_is_redis(settings):
    settings.CLOUDMGR_API_KEY_NONCE_STORE = ""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/3"

    assert nonces.configured_store() == nonces.POSTGRESQL


@pytest.mark.parametrize("store", ["redis://127.0.0.1:6379/5", "redis://127.0.0.1/9"])
def test_a_nonce_store_on_the_brokers_redis_server_is_warned_of_by_the_system_check(settings, store):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/3"
    settings.CLOUDMGR_API_KEY_NONCE_STORE = store

    assert [error.id for error in nonces.nonce_store_is_not_the_broker(None)] == ["identity.W002"]


def test_a_nonce_store_on_another_redis_server_passes_the_system_check(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/3"
    settings.CLOUDMGR_API_KEY_NONCE_STORE = "redis://127.0.0.1:6380/0"

    assert nonces.nonce_store_is_not_the_broker(None) == []
