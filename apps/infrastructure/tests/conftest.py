"""Fixtures of the infrastructure tests (also used by the compute tests): the controller's signing key."""

import pytest

from agent import signing


@pytest.fixture
def signing_key(settings):
    """A fresh task signing key, given to the controller as PEM text (CLOUDMGR_TASK_SIGNING_KEY)."""
    key = signing.generate_private_key()
    settings.CLOUDMGR_TASK_SIGNING_KEY = signing.private_key_to_pem(key).decode()
    return key
