"""Tenant-isolation cases of the portal's pages (see apps/core/tests/isolation.py).

Bodies are what the pages' forms submit; each is a change the cloud admin can
really make, so the check proves the URL reaches the object.
"""

from apps.audit.models import AuditEvent
from apps.core import policy
from apps.core.tests.isolation import Case, per_tenant, platform
from apps.identity.models import Role, Rule
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory
from apps.jobs.services import create_job

PASSWORD_CHANGE = {"new_password": "another-long-password", "confirm_password": "another-long-password"}
CATALOGUE = "Roles and rules are the cloud-wide policy; only cloud administrators change them."


@per_tenant(
    "portal:project-overview",
    "portal:project-members",
    "portal:project-audit",
    "portal:project-detail",
    "portal:project-update",
    "portal:project-limits",
)
def another_tenants_project(tenants):
    project = tenants.other.project
    body = {"name": project.name, "description": "taken over", "enabled": "on", "instances": "3"}
    return Case(project, {"project_id": project.pk}, body=body)


@per_tenant("portal:project-member-add")
def a_member_for_another_tenants_project(tenants):
    project = tenants.other.project
    body = {"user": tenants.other.admin.username, "role": policy.PROJECT_READER}
    return Case(project, {"project_id": project.pk}, body=body)


@per_tenant("portal:project-delete")
def an_empty_project_of_another_tenant(tenants):
    project = ProjectFactory(domain=tenants.other.domain, name="spare-project-of-tenant-b")
    return Case(project, {"project_id": project.pk})


@per_tenant("portal:domain-detail", "portal:domain-update", "portal:domain-limits")
def another_tenants_domain(tenants):
    domain = tenants.other.domain
    body = {"name": domain.name, "description": "taken over", "enabled": "on", "instances": "3"}
    return Case(domain, {"domain_id": domain.pk}, body=body)


@per_tenant("portal:domain-delete")
def an_empty_sub_domain_of_another_tenant(tenants):
    domain = DomainFactory(parent=tenants.other.domain, name="spare-domain-of-tenant-b")
    return Case(domain, {"domain_id": domain.pk})


@per_tenant("portal:user-detail", "portal:user-update", "portal:user-password", "portal:user-assign")
def another_tenants_user(tenants):
    user = tenants.other.member
    body = {
        "full_name": "Taken Over",
        "is_active": "on",
        "role": policy.PROJECT_READER,
        "where": f"project:{tenants.other.project.pk}",
        **PASSWORD_CHANGE,
    }
    return Case(user, {"user_id": user.pk}, body=body)


@per_tenant("portal:user-delete")
def a_spare_user_of_another_tenant(tenants):
    user = UserFactory(domain=tenants.other.domain, username="spare-user-of-tenant-b")
    return Case(user, {"user_id": user.pk})


@per_tenant("portal:assignment-delete")
def another_tenants_role_assignment(tenants):
    assignment = tenants.other.member.assignments.get()
    return Case(assignment, {"assignment_id": assignment.pk})


@per_tenant("portal:admin-audit-event")
def an_audit_entry_of_another_tenants_domain(tenants):
    domain = tenants.other.domain
    event = AuditEvent.objects.create(
        actor_name=tenants.other.admin.username,
        interface="portal",
        action="identity.domain.update",
        object_repr=domain.name,
        domain_path=domain.path,
        outcome=AuditEvent.SUCCESS,
    )
    return Case(event, {"event_id": event.pk})


@per_tenant("portal:job-detail", "portal:job-progress")
def a_job_of_another_tenants_project(tenants):
    project = tenants.other.project
    job = create_job("isolation.probe", target=project.target(), obj=project)
    return Case(job, {"job_id": job.pk})


@platform("portal:rule-create", "portal:role-delete", reason=CATALOGUE)
def a_custom_role(tenants):
    role = Role.objects.create(name="isolation-probe-role")
    return Case(role, {"role_id": role.pk}, body={"action": "audit.event.read"})


@platform("portal:rule-delete", reason=CATALOGUE)
def a_rule_of_a_custom_role(tenants):
    rule = Rule.objects.create(role=Role.objects.create(name="isolation-probe-role"), action="audit.*")
    return Case(rule, {"rule_id": rule.pk})
