"""Tenant-isolation cases of the identity routes (see apps/core/tests/isolation.py)."""

from apps.core.actor import Actor
from apps.core.policy import Principal
from apps.core.tests.isolation import Case, per_tenant, platform
from apps.identity.models import RoleAssignment
from apps.identity.services.apikeys import create_api_key
from apps.identity.services.roles import add_rule, create_role
from apps.identity.tests.factories import DomainFactory

CHANGE = {"description": "changed by another tenant"}
PLATFORM_CATALOGUE = (
    "Roles and their rules are one cloud-wide catalogue: every tenant is given roles from it and"
    " may read it; only cloud admins change it."
)


@per_tenant("api:domain-detail")
def an_empty_sub_domain_of_another_tenant(tenants):
    domain = DomainFactory(parent=tenants.other.domain, name="sub-domain-of-tenant-b")
    return Case.of(domain, body=CHANGE)


@per_tenant("api:project-detail")
def another_tenants_project(tenants):
    return Case.of(tenants.other.project, body=CHANGE)


@per_tenant("api:project-move")
def another_tenants_project_moved_into_mine(tenants):
    return Case.of(tenants.other.project, body={"domain_id": str(tenants.home.domain.pk)})


@per_tenant("api:user-detail")
def another_tenants_user(tenants):
    return Case.of(tenants.other.member, body={"full_name": "changed by another tenant"})


@per_tenant("api:api-key-detail")
def another_tenants_api_key(tenants):
    other = tenants.other
    key, _ = create_api_key(Actor(Principal(other.member)), project=other.project, name="key-of-tenant-b")
    return Case.of(key, body={"enabled": False})


@per_tenant("api:role-assignment-detail")
def another_tenants_project_role(tenants):
    return Case.of(RoleAssignment.objects.get(user=tenants.other.member, project=tenants.other.project))


@per_tenant("api:role-assignment-detail")
def another_tenants_domain_role(tenants):
    return Case.of(RoleAssignment.objects.get(user=tenants.other.admin, domain=tenants.other.domain))


def _custom_role():
    system = Actor.system("test")
    custom = create_role(system, name="isolation-probe", description="made by the isolation test")
    return custom, add_rule(system, role=custom, action_pattern="identity.project.read")


@platform("api:role-detail", reason=PLATFORM_CATALOGUE)
def a_custom_role(tenants):
    return Case.of(_custom_role()[0])


@platform("api:rule-detail", reason=PLATFORM_CATALOGUE)
def a_rule_of_a_custom_role(tenants):
    return Case.of(_custom_role()[1])
