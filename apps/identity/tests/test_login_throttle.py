"""Failed logins lock an (account, address) pair and an address, the whole account only far later."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.identity.tests.factories import PASSWORD, UserFactory

TOKENS = "/api/v1/auth/tokens/"


def attempt(username, password, address):
    response = APIClient(REMOTE_ADDR=address).post(
        TOKENS, {"username": username, "password": password}, format="json"
    )
    return response.status_code, response.json().get("error", {})


@pytest.fixture
def user(root):
    return UserFactory(domain=root)


def fail(username, address, times):
    return [attempt(username, "wrong-password", address)[0] for _ in range(times)]


def test_a_guesser_at_one_address_does_not_lock_the_real_user_out_from_another(user, settings):
    settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_PAIR = 5

    assert fail(user.username, "203.0.113.9", 6) == [401] * 5 + [429]
    status, error = attempt(user.username, PASSWORD, "203.0.113.9")
    assert (status, error["details"]["by"]) == (429, "pair")

    assert attempt(user.username, PASSWORD, "198.51.100.7")[0] == 201


def test_one_address_failing_over_many_accounts_is_refused_for_any_account(root, settings):
    settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    users = [UserFactory(domain=root) for _ in range(3)]
    for victim in users:
        fail(victim.username, "203.0.113.9", 2)

    status, error = attempt(UserFactory(domain=root).username, PASSWORD, "203.0.113.9")

    assert (status, error["details"]["by"]) == (429, "address")


def test_the_whole_account_is_locked_only_at_its_much_higher_limit_from_many_addresses(user, settings):
    settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT = 12
    for number in range(1, 13):
        assert fail(user.username, f"203.0.113.{number}", 1) == [401]

    status, error = attempt(user.username, PASSWORD, "198.51.100.7")

    assert (status, error["details"]["by"]) == (429, "account")


def test_unlock_clears_the_accounts_own_lock_and_its_pairs(user, settings, capsys):
    settings.CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT = 6
    fail(user.username, "203.0.113.9", 5)
    fail(user.username, "203.0.113.10", 1)
    assert attempt(user.username, PASSWORD, "203.0.113.9")[0] == 429

    call_command("unlock", user.username.upper())

    assert "unlocked" in capsys.readouterr().out
    assert attempt(user.username, PASSWORD, "203.0.113.9")[0] == 201
