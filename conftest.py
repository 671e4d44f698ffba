"""Test-run defaults and the rule that an unexpected skip fails the run.

A test may skip only with a reason listed in ALLOWED_SKIPS (each names the
environment variable an operator set on purpose); any other skip turns the
run red, so a missing service can never pass silently.
"""

import os

os.environ.setdefault("CLOUDMGR_SECRET_KEY", "test-only-secret-key-" + "0" * 40)
os.environ.setdefault("CLOUDMGR_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ALLOWED_SKIP_PREFIXES = ("CLOUDMGR_SKIP_REAL_GUEST:",)

_unexpected_skips = []


def pytest_configure(config):
    """pytest-django reads the settings before this file runs, so the hasher default above came too late.

    Apply it here, before any password is hashed (PBKDF2 costs a good part of a second per user);
    and empty the database after each transactional test with DELETEs (apps/core/tests/flushing.py).
    """
    from django.conf import settings

    fast = "django.contrib.auth.hashers.MD5PasswordHasher"
    if os.environ.get("CLOUDMGR_FAST_PASSWORD_HASHER") == "1" and settings.PASSWORD_HASHERS[0] != fast:
        settings.PASSWORD_HASHERS = [fast, *settings.PASSWORD_HASHERS]

    from apps.core.tests import flushing

    flushing.install()


def pytest_collection_modifyitems(items):
    """Every database test may also use the `audit` connection (failures are audited on it)."""
    import pytest

    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        kwargs.setdefault("databases", "__all__")
        item.add_marker(pytest.mark.django_db(*(marker.args if marker else ()), **kwargs), append=False)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        reason = reason.removeprefix("Skipped: ")
        if not reason.startswith(ALLOWED_SKIP_PREFIXES):
            _unexpected_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _unexpected_skips and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _unexpected_skips:
        terminalreporter.section("unexpected skips fail the run")
        for line in _unexpected_skips:
            terminalreporter.write_line(line)
