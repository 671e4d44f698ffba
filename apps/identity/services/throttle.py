"""Failed-login throttling, counted in PostgreSQL, by (account, address) pair, by address and by account.

- a pair (an account tried from one address) is refused after a few failures
  (CLOUDMGR_LOGIN_MAX_FAILURES_PER_PAIR), so whoever guesses a password from
  one address stops there while the real user, from another, still signs in;
- an address is refused after more failures over any accounts (…_PER_ADDRESS),
  so one address cannot walk through many accounts;
- a whole account is refused only at a much higher count from any addresses
  (…_PER_ACCOUNT): a distributed guess, which must not lock the real user out
  for a handful of bad tries. `manage.py unlock USER` clears an account's locks.

Counters live in the database, so every controller sees the same numbers.
One UPSERT per counter and failure: a fixed window that restarts when it has expired.
"""

from django.conf import settings
from django.db import connection
from django.db.models import Q

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


def _account_key(username):
    return f"account:{username.lower()}"


def _pair_key_prefix(username):
    return f"pair:{username.lower()}|"


def _keys(username, address):
    keys = {_account_key(username): settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT}
    if address:
        keys[f"{_pair_key_prefix(username)}{address}"] = settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_PAIR
        keys[f"address:{address}"] = settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ADDRESS
    return keys


def refuse_if_over(limits, *, message, code):
    """Raise Throttled when a counter of `limits` ({key: limit}) has reached its limit in the window."""
    window = settings.CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS
    with connection.cursor() as cursor:
        cursor.execute(_BLOCKED_SQL, {"keys": list(limits), "window": window})
        for key, failures in cursor.fetchall():
            if failures >= limits[key]:
                raise Throttled(
                    message, code=code, details={"retry_after_seconds": window, "by": key.split(":", 1)[0]}
                )


def count_failure(keys):
    """Add one failure to each counter; call outside any transaction that may roll back."""
    window = settings.CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute(_RECORD_SQL, {"key": key, "window": window})


def check(username, address):
    """Raise Throttled when the pair, the address or the account has failed too often in the window."""
    refuse_if_over(
        _keys(username, address), message="Too many failed logins; try again later.", code="login_throttled"
    )


def record_failure(username, address):
    count_failure(_keys(username, address))


def forget_failures(username, address):
    """After a good login: the account's count and this pair's start again (the address's stays)."""
    keys = [key for key in _keys(username, address) if not key.startswith("address:")]
    LoginFailure.objects.filter(key__in=keys).delete()


def unlock(username):
    """Clear every lock on the account, its own count and each of its pairs; returns how many."""
    deleted, _ = LoginFailure.objects.filter(
        Q(key=_account_key(username)) | Q(key__startswith=_pair_key_prefix(username))
    ).delete()
    return deleted
