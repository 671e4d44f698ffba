"""What one controller decides, another obeys: two real `runcontroller` processes on one database."""

import pytest

from apps.core import policy
from apps.identity.tests.factories import PASSWORD, ProjectFactory, UserFactory, grant

pytestmark = pytest.mark.processes

TOKENS = "/api/v1/auth/tokens/"


def test_a_rule_removed_through_one_controller_is_obeyed_by_another_on_the_next_request(
    start_controller, cloud_admin
):
    project = ProjectFactory()
    member = UserFactory(domain=project.domain)
    grant(member, policy.PROJECT_MEMBER, project)
    first, second = start_controller("first"), start_controller("second")
    member_token = second.login(member.username, PASSWORD)
    assert second.request("GET", f"/api/v1/projects/{project.id}/", token=member_token)[0] == 200

    admin_token = first.login(cloud_admin.username, PASSWORD)
    status, rules = first.request(
        "GET", f"/api/v1/rules/?role__name={policy.PROJECT_MEMBER}&action=@{policy.READ}", token=admin_token
    )
    assert status == 200
    [read_rule] = rules["results"]
    assert first.request("DELETE", f"/api/v1/rules/{read_rule['id']}/", token=admin_token)[0] == 204

    status, body = second.request("GET", f"/api/v1/projects/{project.id}/", token=member_token)
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_failed_logins_on_two_controllers_add_up_to_the_per_account_limit(start_controller, root):
    user = UserFactory()
    limit = {"CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT": "4"}
    first = start_controller("first", environment=limit)
    second = start_controller("second", environment=limit)
    wrong = {"username": user.username, "password": "not-the-password"}
    # Two failures on each: neither controller alone has seen the limit.
    assert [c.request("POST", TOKENS, wrong)[0] for c in (first, second, first, second)] == [401] * 4

    right = {"username": user.username, "password": PASSWORD}
    for controller in (first, second):
        status, body = controller.request("POST", TOKENS, right)
        assert (status, body["error"]["code"]) == (429, "login_throttled")
