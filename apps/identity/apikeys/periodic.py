"""API keys' periodic work: forgetting nonces whose requests have left the time window."""

from . import nonces


def purge_api_key_nonces():
    return nonces.purge_expired()
