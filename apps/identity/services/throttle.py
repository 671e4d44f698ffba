"""Failed-login throttling per account and per address, counted in PostgreSQL.

Counters live in the database, so every controller sees the same numbers.
One UPSERT per failure: a fixed window that restarts when it has expired.
"""

from django.conf import settings
from django.db import connection

from apps.core.errors import Throttled

from ..models import LoginFailure

_RECORD_SQL = """
INSERT INTO identity_loginfailure (key, failures, window_started_at)
VALUES (%(key)s, 1, now())
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN identity_loginfailure.window_started_at < now() - %(window)s * interval '1 second'
                  THEN 1 ELSE identity_loginfailure.failures + 1 END,
  window_started_at = CASE WHEN identity_loginfailure.window_started_at
                                < now() - %(window)s * interval '1 second'
                           THEN now() ELSE identity_loginfailure.window_started_at END
"""

_BLOCKED_SQL = """
SELECT key, failures FROM identity_loginfailure
 WHERE key = ANY(%(keys)s) AND window_started_at >= now() - %(window)s * interval '1 second'
"""


def _keys(username, address):
    keys = {f"account:{username.lower()}": settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT}
    if address:
        keys[f"address:{address}"] = settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ADDRESS
    return keys


def check(username, address):
    """Raise Throttled when the account or the address has failed too often in the window."""
    window = settings.CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS
    limits = _keys(username, address)
    with connection.cursor() as cursor:
        cursor.execute(_BLOCKED_SQL, {"keys": list(limits), "window": window})
        for key, failures in cursor.fetchall():
            if failures >= limits[key]:
                raise Throttled(
                    "Too many failed logins; try again later.",
                    code="login_throttled",
                    details={"retry_after_seconds": window, "by": key.split(":", 1)[0]},
                )


def record_failure(username, address):
    window = settings.CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS
    with connection.cursor() as cursor:
        for key in _keys(username, address):
            cursor.execute(_RECORD_SQL, {"key": key, "window": window})


def reset_account(username):
    LoginFailure.objects.filter(key=f"account:{username.lower()}").delete()
