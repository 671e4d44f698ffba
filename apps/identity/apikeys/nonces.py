"""Remember each signed request's nonce, shared by every controller, so a request cannot be replayed.

CLOUDMGR_API_KEY_NONCE_STORE is "postgresql" (the default: one `INSERT … ON
CONFLICT` per request, and a periodic purge) or a redis:// URL (one `SET NX EX`
per request). Never the broker's Redis: every host can write there, so a host
in hostile hands could delete nonces and replay captured requests; a system
check (`manage.py check`, and at controller start) warns of that setting.
A nonce is kept until the request that carried it falls out of the time window,
after which its timestamp alone refuses a replay.
"""

import math
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core import checks
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


def storage_key(access_key, nonce):
    return f"cloudmgr:api-key-nonce:{access_key}:{nonce}"


def configured_store():
    return settings.CLOUDMGR_API_KEY_NONCE_STORE or POSTGRESQL


def _redis_server(url):
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return ("unix", parts.path)
    if parts.scheme in ("redis", "rediss"):
        return (parts.hostname or "localhost", parts.port or 6379)
    return None


def nonce_store_is_not_the_broker(app_configs, **kwargs):
    store = configured_store()
    if store != POSTGRESQL and _redis_server(store) == _redis_server(settings.CELERY_BROKER_URL):
        return [
            checks.Warning(
                "CLOUDMGR_API_KEY_NONCE_STORE is the broker's Redis server, which every host can write to.",
                hint="Leave it empty (PostgreSQL) or name a Redis server the hosts cannot reach.",
                id="identity.W002",
            )
        ]
    return []


def first_use(access_key, nonce, expires_at):
    """True the first time (access_key, nonce) is seen before `expires_at`; False for a replay."""
    store = configured_store()
    key = storage_key(access_key, nonce)
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
