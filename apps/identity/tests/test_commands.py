"""The identity commands: an operator builds tenants from the shell; errors are one line and exit 1."""

import pytest
from django.core.management.base import CommandError

from apps.conftest import login
from apps.core import policy
from apps.identity.models import Domain, Project, RoleAssignment, User
from apps.identity.tests.factories import PASSWORD

from .commands import call, run_manage


@pytest.fixture
def acme(root):
    """acme/eng with project web and user alice, made by the commands themselves."""
    call("createdomain", "acme")
    call("createdomain", "eng", "--parent", "acme")
    call("createproject", "web", "--domain", "acme/eng")
    call("createuser", "alice", "--domain", "acme/eng", "--password", PASSWORD)
    return Domain.objects.get(name="eng", parent__name="acme")


def test_an_operator_builds_a_tenant_from_the_command_line(acme):
    printed = call("assignrole", "alice", policy.PROJECT_MEMBER, "--project", "acme/eng:web")

    project = Project.objects.get(name="web", domain=acme)
    alice = User.objects.get(username="alice", domain=acme)
    assert printed == f"alice has {policy.PROJECT_MEMBER} on web\n"
    assert RoleAssignment.objects.get(user=alice).project == project
    assert acme.depth == 2
    api = login(alice, project_id=project.pk)
    assert [p["name"] for p in api.get("/api/v1/projects/").data["results"]] == ["web"]


def test_the_password_can_come_from_the_environment_instead_of_the_process_list(acme, monkeypatch):
    monkeypatch.setenv("CLOUDMGR_USER_PASSWORD", "from-the-environment-1")

    call("createuser", "bob", "--domain", "acme")

    assert User.objects.get(username="bob").check_password("from-the-environment-1")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["createdomain", "eng", "--parent", "acme"], "already_exists: A domain named 'eng' already exists"),
        (["createdomain", "ops", "--parent", "acme/nope"], "not_found: No domain 'acme/nope'."),
        (["createproject", "web", "--domain", "acme/eng"], "already_exists: A project named 'web'"),
        (["createuser", "bob", "--domain", "acme", "--password", "short"], "weak_password: "),
        (["createuser", "alice", "--domain", "acme", "--password", PASSWORD], "already_exists: "),
        (["assignrole", "alice", "no_such_role", "--domain", "acme"], "not_found: No role 'no_such_role'."),
        (["assignrole", "nobody", policy.PROJECT_READER, "--domain", "acme"], "not_found: No user 'nobody'."),
        (["assignrole", "alice", policy.PROJECT_READER, "--project", "acme"], "--project takes DOMAIN_PATH"),
        (["moveproject", "acme/eng:web", "--to", "acme/eng"], "same_domain: Project web is already in eng."),
        (["moveproject", "acme/eng:nope", "--to", "acme"], "not_found: No project 'nope'"),
    ],
)
def test_a_refused_command_raises_one_line_naming_the_error(acme, args, line):
    with pytest.raises(CommandError) as refused:
        call(*args)

    assert str(refused.value).startswith(line)
    assert "\n" not in str(refused.value)
    assert refused.value.returncode == 1


def test_commands_on_a_database_without_bootstrap_say_so_in_one_line(db):
    with pytest.raises(CommandError, match=r"^not_bootstrapped: There is no ROOT domain yet"):
        call("createproject", "web", "--domain", "acme")


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
def test_a_real_manage_py_process_prints_one_line_on_stderr_and_exits_1(root):
    finished = run_manage("createproject", "web", "--domain", "acme/nope")

    assert finished.returncode == 1
    assert finished.stderr == "CommandError: not_found: No domain 'acme/nope'.\n"
    assert finished.stdout == ""
    assert not Project.objects.exists()
