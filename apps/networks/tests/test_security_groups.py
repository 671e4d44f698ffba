"""Security groups: every project's default group, rules and their checks, deletion, quotas."""

import pytest

from apps.identity.services.domains import create_domain
from apps.identity.services.projects import create_project
from apps.identity.tests.factories import ProjectFactory
from apps.networks.models import SecurityGroup, SecurityGroupRule
from apps.networks.services import security_groups
from apps.quotas import services as quotas

from .factories import SYSTEM


def rules_of(group):
    return sorted(
        (r.direction, r.ethertype, r.remote_group_id == group.pk, r.protocol) for r in group.rules.all()
    )


def test_a_new_project_gets_its_default_group_with_egress_open_and_ingress_from_itself(root):
    project = create_project(SYSTEM, domain=create_domain(SYSTEM, parent=root, name="acme"), name="web")
    group = SecurityGroup.objects.get(project=project)
    assert (group.name, group.is_default) == ("default", True)
    assert rules_of(group) == [
        ("egress", "IPv4", False, None),
        ("egress", "IPv6", False, None),
        ("ingress", "IPv4", True, None),
        ("ingress", "IPv6", True, None),
    ]
    assert quotas.usage_of(project)["security_groups"][1] == 0
    assert quotas.usage_of(project)["security_group_rules"][1] == 0


def test_an_older_project_gets_its_default_group_when_it_lists_its_groups(api, project):
    assert not SecurityGroup.objects.filter(project=project).exists()
    listed = api.get("/api/v1/security-groups/").data["results"]
    assert [(g["name"], len(g["rules"])) for g in listed] == [("default", 4)]
    api.get("/api/v1/security-groups/")
    assert SecurityGroup.objects.filter(project=project).count() == 1


def add_rule(api, group_id, **body):
    return api.post("/api/v1/security-group-rules/", {"security_group_id": group_id, **body}, format="json")


@pytest.fixture
def web(api):
    return api.post("/api/v1/security-groups/", {"name": "web"}, format="json").data


def test_rules_are_added_once_and_count_against_the_quota(api, web, project):
    response = add_rule(
        api, web["id"], direction="ingress", protocol="tcp", port_min=443, remote_cidr="0.0.0.0/0"
    )
    assert response.status_code == 201, response.content
    assert (response.data["port_min"], response.data["port_max"]) == (443, 443)
    again = add_rule(
        api,
        web["id"],
        direction="ingress",
        protocol="tcp",
        port_min=443,
        port_max=443,
        remote_cidr="0.0.0.0/0",
    )
    assert (again.status_code, again.data["error"]["code"]) == (409, "security_group_rule_exists")
    assert quotas.usage_of(project)["security_group_rules"][1] == 1
    assert quotas.usage_of(project)["security_groups"][1] == 1
    assert api.delete(f"/api/v1/security-group-rules/{response.data['id']}/").status_code == 204
    assert quotas.usage_of(project)["security_group_rules"][1] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"direction": "ingress", "protocol": "icmp", "port_min": 22}, "bad_port_range"),
        ({"direction": "ingress", "protocol": "tcp", "port_min": 30, "port_max": 20}, "bad_port_range"),
        ({"direction": "ingress", "protocol": "tcp", "icmp_type": 8}, "bad_icmp"),
        ({"direction": "ingress", "protocol": "icmp", "icmp_code": 0}, "bad_icmp"),
        ({"direction": "ingress", "ethertype": "IPv6", "protocol": "icmp"}, "bad_protocol"),
        ({"direction": "ingress", "remote_cidr": "2001:db8::/32"}, "bad_cidr"),
        ({"direction": "ingress", "remote_cidr": "nonsense"}, "bad_cidr"),
    ],
)
def test_a_rule_that_makes_no_sense_is_a_400_with_its_code(api, web, body, code):
    response = add_rule(api, web["id"], **body)
    assert (response.status_code, response.data["error"]["code"]) == (400, code)
    assert not SecurityGroupRule.objects.filter(security_group_id=web["id"]).exists()


def test_a_rule_names_as_remote_only_a_group_of_its_own_project(api, web):
    foreign = security_groups.default_group(ProjectFactory())
    response = add_rule(api, web["id"], direction="ingress", remote_group_id=str(foreign.pk))
    assert (response.status_code, response.data["error"]["code"]) == (400, "security_group_not_found")


def test_no_group_is_named_default_and_the_default_group_is_not_deleted(api, project):
    response = api.post("/api/v1/security-groups/", {"name": "default"}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (400, "reserved_name")
    group = security_groups.default_group(project)
    response = api.delete(f"/api/v1/security-groups/{group.pk}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "security_group_is_default")


def test_deleting_a_group_takes_the_rules_that_name_it_and_gives_their_quota_back(api, web, project):
    default = security_groups.default_group(project)
    add_rule(
        api, str(default.pk), direction="ingress", protocol="tcp", port_min=80, remote_group_id=web["id"]
    )
    add_rule(api, web["id"], direction="egress", protocol="udp", port_min=53)
    assert quotas.usage_of(project)["security_group_rules"][1] == 2
    assert api.delete(f"/api/v1/security-groups/{web['id']}/").status_code == 204
    assert rules_of(default) == [
        ("egress", "IPv4", False, None),
        ("egress", "IPv6", False, None),
        ("ingress", "IPv4", True, None),
        ("ingress", "IPv6", True, None),
    ]
    usage = quotas.usage_of(project)
    assert (usage["security_groups"][1], usage["security_group_rules"][1]) == (0, 0)


def test_a_group_used_by_a_port_is_not_deleted(api, web, project, zone):
    from .factories import flat_network

    network = flat_network(zone, shared_with=[project])
    api.post(
        "/api/v1/ports/", {"network_id": str(network.pk), "security_group_ids": [web["id"]]}, format="json"
    )
    response = api.delete(f"/api/v1/security-groups/{web['id']}/")
    assert (response.status_code, response.data["error"]["code"]) == (409, "security_group_in_use")


def test_the_security_groups_quota_refuses_beyond_the_limit(api, project):
    quotas.set_limit(SYSTEM, project, "security_groups", 1)
    assert api.post("/api/v1/security-groups/", {"name": "a"}, format="json").status_code == 201
    response = api.post("/api/v1/security-groups/", {"name": "b"}, format="json")
    assert (response.status_code, response.data["error"]["code"]) == (409, "quota_exceeded")
