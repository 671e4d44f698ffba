"""Delegated administration: a domain admin runs its subtree, never its own domain or above it."""

import pytest

from apps.conftest import login
from apps.core import policy
from apps.core.actor import Actor
from apps.core.errors import NotFound
from apps.identity.models import Domain, Project, Role, RoleAssignment, Rule, User
from apps.identity.services.roles import assign_role
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant, role
from apps.quotas.models import QuotaUsage


@pytest.fixture
def corp(root):
    """ROOT/corp/{acme/eng, globex}; ann administers acme."""
    tree = {"corp": DomainFactory(name="corp")}
    tree["acme"] = DomainFactory(name="acme", parent=tree["corp"])
    tree["eng"] = DomainFactory(name="eng", parent=tree["acme"])
    tree["globex"] = DomainFactory(name="globex", parent=tree["corp"])
    tree["web"] = ProjectFactory(name="web", domain=tree["eng"])
    tree["shop"] = ProjectFactory(name="shop", domain=tree["globex"])
    tree["ann"] = UserFactory(username="ann", domain=tree["acme"])
    grant(tree["ann"], policy.DOMAIN_ADMIN, tree["acme"])
    return tree


@pytest.fixture
def ann(corp):
    return login(corp["ann"])


def quota_row(scope, resource="instances"):
    key = "project" if isinstance(scope, Project) else "domain"
    return QuotaUsage.objects.get(resource=resource, **{key: scope})


def test_a_domain_admin_creates_changes_and_deletes_sub_domains(corp, ann):
    created = ann.post("/api/v1/domains/", {"name": "ops", "parent_id": str(corp["acme"].pk)}, format="json")
    assert created.status_code == 201, created.data
    assert created.data["depth"] == 3
    deeper = ann.post("/api/v1/domains/", {"name": "db", "parent_id": created.data["id"]}, format="json")
    assert deeper.status_code == 201

    renamed = ann.patch(f"/api/v1/domains/{corp['eng'].pk}/", {"name": "engineering"}, format="json")
    disabled = ann.patch(f"/api/v1/domains/{created.data['id']}/", {"enabled": False}, format="json")
    deleted = ann.delete(f"/api/v1/domains/{deeper.data['id']}/")

    assert (renamed.status_code, disabled.status_code, deleted.status_code) == (200, 200, 204)
    assert Domain.objects.get(pk=corp["eng"].pk).name == "engineering"
    assert not Domain.objects.get(pk=created.data["id"]).enabled


def test_a_domain_admin_creates_changes_moves_and_deletes_projects_in_its_subtree(corp, ann):
    created = ann.post("/api/v1/projects/", {"name": "api", "domain_id": str(corp["eng"].pk)}, format="json")
    assert created.status_code == 201
    project_url = f"/api/v1/projects/{created.data['id']}/"

    assert ann.patch(project_url, {"description": "the API"}, format="json").status_code == 200
    moved = ann.post(f"{project_url}move/", {"domain_id": str(corp["acme"].pk)}, format="json")
    assert (moved.status_code, moved.data["domain_id"]) == (200, str(corp["acme"].pk))
    assert ann.delete(project_url).status_code == 204


def test_a_domain_admin_creates_changes_and_deletes_users_in_its_subtree(corp, ann):
    body = {"username": "eve", "domain_id": str(corp["eng"].pk), "password": "a-good-long-password"}
    created = ann.post("/api/v1/users/", body, format="json")
    assert created.status_code == 201
    user_url = f"/api/v1/users/{created.data['id']}/"

    assert (
        ann.patch(user_url, {"full_name": "Eve", "password": "another-long-one"}, format="json").status_code
        == 200
    )
    assert ann.patch(user_url, {"is_active": False}, format="json").status_code == 200
    assert User.objects.get(username="eve").check_password("another-long-one")
    assert ann.delete(user_url).status_code == 204


def test_a_domain_admin_sets_quotas_of_its_projects_and_sub_domains(corp, ann):
    for scope in (corp["web"], corp["eng"]):
        response = ann.patch(f"/api/v1/quotas/{quota_row(scope).pk}/", {"limit": 5}, format="json")
        assert response.status_code == 200, response.data
        assert quota_row(scope).limit == 5


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "domains/{acme}/", {"name": "mine-now"}),
        ("patch", "domains/{acme}/", {"enabled": False}),
        ("delete", "domains/{acme}/", None),
        ("patch", "quotas/{acme_quota}/", {"limit": 1000}),
    ],
)
def test_a_domain_admin_cannot_change_its_own_domain(corp, ann, method, path, body):
    url = "/api/v1/" + path.format(acme=corp["acme"].pk, acme_quota=quota_row(corp["acme"]).pk)

    response = getattr(ann, method)(url, body, format="json")

    assert (response.status_code, response.data["error"]["code"]) == (403, "permission_denied")
    acme = Domain.objects.get(pk=corp["acme"].pk)
    assert (acme.name, acme.enabled, quota_row(acme).limit) == ("acme", True, -1)


def test_a_domain_admin_sees_its_subtree_and_nothing_above_or_beside_it(corp, ann, root):
    listed = {d["name"] for d in ann.get("/api/v1/domains/").data["results"]}
    assert listed == {"acme", "eng"}
    for hidden in (root, corp["corp"], corp["globex"]):
        response = ann.get(f"/api/v1/domains/{hidden.pk}/")
        assert (response.status_code, response.data["error"]["code"]) == (404, "not_found")
    assert ann.get(f"/api/v1/projects/{corp['shop'].pk}/").status_code == 404
    assert ann.get(f"/api/v1/quotas/{quota_row(corp['globex']).pk}/").status_code == 404
    assert {p["name"] for p in ann.get("/api/v1/projects/").data["results"]} == {"web"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "projects/", {"name": "x", "domain_id": "{globex}"}),
        ("post", "domains/", {"name": "x", "parent_id": "{corp}"}),
        ("post", "users/", {"username": "x", "domain_id": "{globex}"}),
        ("post", "projects/{web}/move/", {"domain_id": "{globex}"}),
        ("patch", "domains/{globex}/", {"name": "taken"}),
        ("patch", "quotas/{corp_quota}/", {"limit": 1}),
    ],
)
def test_a_domain_admin_cannot_act_above_or_beside_its_domain(corp, ann, method, path, body):
    ids = {
        "globex": corp["globex"].pk,
        "corp": corp["corp"].pk,
        "web": corp["web"].pk,
        "corp_quota": quota_row(corp["corp"]).pk,
    }
    body = {key: value.format(**ids) if isinstance(value, str) else value for key, value in body.items()}

    response = getattr(ann, method)("/api/v1/" + path.format(**ids), body, format="json")

    assert (response.status_code, response.data["error"]["code"]) == (404, "not_found")
    assert Project.objects.get(pk=corp["web"].pk).domain_id == corp["eng"].pk
    assert Domain.objects.get(pk=corp["globex"].pk).name == "globex"


def test_a_domain_admin_delegates_roles_it_holds_within_its_subtree(corp, ann):
    bob = UserFactory(username="bob", domain=corp["eng"])
    for body in (
        {"role": policy.DOMAIN_ADMIN, "domain_id": str(corp["eng"].pk)},
        {"role": policy.PROJECT_MEMBER, "project_id": str(corp["web"].pk)},
    ):
        response = ann.post("/api/v1/role-assignments/", {"user_id": str(bob.pk), **body}, format="json")
        assert response.status_code == 201, response.data
    assert bob.assignments.count() == 2


@pytest.mark.parametrize("patterns", [["*"], ["quotas.default.update"], ["@read", "identity.rule.*"]])
def test_a_domain_admin_cannot_give_a_role_carrying_more_than_it_holds(corp, ann, patterns):
    if patterns == ["*"]:
        granted = role(policy.CLOUD_ADMIN)
    else:
        granted = Role.objects.create(name="too-much")
        Rule.objects.bulk_create([Rule(role=granted, action=p) for p in patterns])
    bob = UserFactory(domain=corp["eng"])

    response = ann.post(
        "/api/v1/role-assignments/",
        {"user_id": str(bob.pk), "role": granted.name, "domain_id": str(corp["acme"].pk)},
        format="json",
    )

    assert (response.status_code, response.data["error"]["code"]) == (403, "delegation_exceeded")
    assert not bob.assignments.exists()


def test_a_domain_admin_cannot_give_roles_to_users_outside_its_subtree(corp, ann):
    outsiders = [UserFactory(domain=corp["globex"]), UserFactory(domain=corp["corp"])]
    for outsider in outsiders:
        response = ann.post(
            "/api/v1/role-assignments/",
            {"user_id": str(outsider.pk), "role": policy.PROJECT_MEMBER, "project_id": str(corp["web"].pk)},
            format="json",
        )
        assert (response.status_code, response.data["error"]["code"]) == (404, "not_found")
    ann_actor = Actor(policy.Principal(corp["ann"]))
    with pytest.raises(NotFound):
        assign_role(ann_actor, user=outsiders[0], role=role(policy.PROJECT_MEMBER), project=corp["web"])
    assert not RoleAssignment.objects.filter(user__in=outsiders).exists()


@pytest.mark.parametrize(
    ("method", "body"),
    [("patch", {"password": "taken-over-by-ann"}), ("patch", {"is_active": False}), ("delete", None)],
)
def test_a_domain_admin_cannot_take_over_a_user_holding_more_than_it_does(corp, ann, root, method, body):
    operator = UserFactory(username="operator", domain=corp["eng"])
    grant(operator, policy.CLOUD_ADMIN, root)

    response = getattr(ann, method)(f"/api/v1/users/{operator.pk}/", body, format="json")

    assert (response.status_code, response.data["error"]["code"]) == (403, "delegation_exceeded")
    operator = User.objects.get(pk=operator.pk)
    assert operator.is_active
    assert not operator.check_password("taken-over-by-ann")


def test_a_domain_admin_takes_away_only_roles_it_could_give(corp, ann):
    bob = UserFactory(domain=corp["eng"])
    member = grant(bob, policy.PROJECT_MEMBER, corp["web"])
    too_much = grant(bob, policy.CLOUD_ADMIN, corp["eng"])

    refused = ann.delete(f"/api/v1/role-assignments/{too_much.pk}/")
    removed = ann.delete(f"/api/v1/role-assignments/{member.pk}/")

    assert (refused.status_code, refused.data["error"]["code"]) == (403, "delegation_exceeded")
    assert removed.status_code == 204
    assert list(bob.assignments.values_list("role__name", flat=True)) == [policy.CLOUD_ADMIN]
