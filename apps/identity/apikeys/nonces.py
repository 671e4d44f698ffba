"""Remember each signed request's nonce, shared by every controller, so a request cannot be replayed.

CLOUDMGR_API_KEY_NONCE_STORE is either a redis:// URL (one `SET NX EX` per
request) or "postgresql" (one `INSERT … ON CONFLICT` per request, and a periodic
purge); when it is empty, the broker is used if it is Redis, else PostgreSQL.
A nonce is kept until the request that carried it falls out of the time window,
after which its timestamp alone refuses a replay.
"""

import math

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.errors import ServiceError

from ..models import ApiKeyNonce

POSTGRESQL = "postgresql"


class NonceStoreUnavailable(ServiceError):
    status = 503
    code = "nonce_store_unavailable"


# Connection pools per URL: they hold sockets, and decide nothing.
_redis_clients = {}


def _redis(url):
    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client


def _storage_key(access_key, nonce):
    return f"cloudmgr:api-key-nonce:{access_key}:{nonce}"


def configured_store():
    store = settings.CLOUDMGR_API_KEY_NONCE_STORE
    if store:
        return store
    broker = settings.CELERY_BROKER_URL
    return broker if broker.startswith(("redis://", "rediss://", "unix://")) else POSTGRESQL


def first_use(access_key, nonce, expires_at):
    """True the first time (access_key, nonce) is seen before `expires_at`; False for a replay."""
    store = configured_store()
    key = _storage_key(access_key, nonce)
    if store == POSTGRESQL:
        return _first_use_postgresql(key, expires_at)
    ttl_seconds = max(1, math.ceil((expires_at - timezone.now()).total_seconds()))
    try:
        return bool(_redis(store).set(key, b"1", nx=True, ex=ttl_seconds))
    except redis.RedisError as exc:
        raise NonceStoreUnavailable("The replay-protection store cannot be reached; try again.") from exc


# A row left over from a request whose window has passed may be taken over.
_INSERT_SQL = """
INSERT INTO identity_apikeynonce AS n (key, expires_at) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE n.expires_at < %s
RETURNING 1
"""


def _first_use_postgresql(key, expires_at):
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, [key, expires_at, timezone.now()])
        return cursor.fetchone() is not None


def purge_expired():
    deleted, _ = ApiKeyNonce.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
