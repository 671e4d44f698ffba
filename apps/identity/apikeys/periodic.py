"""API keys' periodic work: forgetting nonces whose requests have left the time window."""

from apps.jobs.registry import periodic

from . import nonces


@periodic("identity.purge_api_key_nonces")
def purge_api_key_nonces():
    return nonces.purge_expired()
