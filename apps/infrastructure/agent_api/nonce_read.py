"""Remember an agent request's nonce in the statement that reads what the request is about.

Every signed agent request uses its nonce once. With the nonces in PostgreSQL
(the default: never the broker, which every host can write to) that is one
INSERT per request; a task report, the busiest request, also reads its job and
host in one statement. `first_remembering_nonce` makes those one statement: a
data-modifying CTE inserts the nonce, and the read reports whether it was new.

The nonce is written before the signature is checked, where the read already
happens; only for an enrolled host's name, and a row an unsigned request leaves
expires with the window like any other. Nothing is accepted before the check:
the signature is verified first, then the freshness this statement found.
"""

from datetime import timedelta

from django.utils import timezone

from agent import signing
from apps.identity.apikeys import nonces
from apps.identity.models import ApiKeyNonce

# What verify_request asks remember_nonce to keep a nonce for.
NONCE_TTL = timedelta(seconds=2 * signing.REQUEST_MAX_SKEW_SECONDS)

_REMEMBER = """
WITH fresh AS (
  INSERT INTO identity_apikeynonce AS n (key, expires_at)
  SELECT %s, %s WHERE EXISTS (SELECT 1 FROM infrastructure_host WHERE name = %s AND public_key <> '')
  ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE n.expires_at < %s
  RETURNING 1
)
"""


def nonce_key(host_name, nonce):
    return f"agent-host:{host_name}", nonce


def first_remembering_nonce(queryset, host_name, nonce):
    """(the first row of `queryset` or None, whether the nonce was new, or None if not remembered here).

    Only with the PostgreSQL nonce store; with a Redis one the caller remembers it as usual.
    """
    if nonces.configured_store() != nonces.POSTGRESQL or not nonce:
        return queryset.first(), None
    key = nonces.storage_key(*nonce_key(host_name, nonce))
    now = timezone.now()
    expires_at = now + NONCE_TTL
    sql, params = queryset[:1].query.sql_with_params()
    select = sql.replace("SELECT ", "SELECT (SELECT count(*) FROM fresh) AS nonce_fresh, ", 1)
    rows = list(queryset.model.objects.raw(_REMEMBER + select, [key, expires_at, host_name, now, *params]))
    if rows:
        return rows[0], bool(rows[0].nonce_fresh)
    # No row to carry the answer: the nonce is new if the row holds the expiry written just now.
    return None, ApiKeyNonce.objects.filter(key=key, expires_at=expires_at).exists()
