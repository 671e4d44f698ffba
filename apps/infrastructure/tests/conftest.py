"""Fixtures of the infrastructure tests (also used by the compute tests): the controller's signing key and
host CA."""

import pytest

from agent import signing
from apps.infrastructure import host_ca as host_ca_module


@pytest.fixture
def signing_key(settings):
    """A fresh task signing key, given to the controller as PEM text (CLOUDMGR_TASK_SIGNING_KEY)."""
    key = signing.generate_private_key()
    settings.CLOUDMGR_TASK_SIGNING_KEY = signing.private_key_to_pem(key).decode()
    return key


@pytest.fixture
def host_ca(settings, tmp_path):
    """A fresh host CA (apps.infrastructure.host_ca): hosts enrolling now get TLS certificates.

    Returns the environment a controller process needs to use the same CA.
    """
    key, certificate = tmp_path / "host-ca" / "key.pem", tmp_path / "host-ca" / "ca.pem"
    host_ca_module.create_files(key, certificate)
    settings.CLOUDMGR_HOST_CA_KEY_FILE, settings.CLOUDMGR_HOST_CA_CERT_FILE = str(key), str(certificate)
    return {"CLOUDMGR_HOST_CA_KEY_FILE": str(key), "CLOUDMGR_HOST_CA_CERT_FILE": str(certificate)}
