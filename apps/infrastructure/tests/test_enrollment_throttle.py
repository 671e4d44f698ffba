"""Unauthenticated enrollment is throttled per address, and a throttled attempt writes no audit row."""

import pytest
from django.test import Client

from agent import signing
from apps.audit.models import AuditEvent

from .test_agent_endpoint import enroll_request, post_enroll

pytestmark = pytest.mark.django_db(transaction=True)


def guess(address):
    client = Client(REMOTE_ADDR=address)
    response = post_enroll(client, enroll_request("a-guessed-token", signing.generate_private_key()))
    return response.status_code, response.json()["error"]["code"]


def test_bad_enrollment_tokens_from_one_address_are_refused_past_the_limit_without_an_audit_row_each(
    root, settings
):
    settings.CLOUDMGR_ENROLL_MAX_FAILURES_PER_ADDRESS = 3

    answers = [guess("203.0.113.9") for _ in range(6)]

    assert answers == [(401, "bad_enrollment_token")] * 3 + [(429, "enroll_throttled")] * 3
    assert AuditEvent.objects.filter(action="infrastructure.agent.enroll").count() == 3
    assert guess("198.51.100.7") == (401, "bad_enrollment_token")
