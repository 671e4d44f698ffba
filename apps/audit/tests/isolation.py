"""Tenant-isolation cases of the audit routes (see apps/core/tests/isolation.py)."""

from apps.audit.models import AuditEvent
from apps.audit.recorder import audited
from apps.core.actor import Actor
from apps.core.policy import Principal
from apps.core.tests.isolation import Case, per_tenant


def _recorded(user, action, target, obj):
    with audited(Actor(Principal(user)), action, target=target, obj=obj):
        pass
    return AuditEvent.objects.filter(actor_id=user.pk).latest("id")


@per_tenant("api:audit-event-detail")
def an_event_of_another_tenants_project(tenants):
    other = tenants.other
    return Case.of(_recorded(other.member, "identity.project.update", other.project.target(), other.project))


@per_tenant("api:audit-event-detail")
def an_event_of_another_tenants_domain(tenants):
    other = tenants.other
    return Case.of(_recorded(other.admin, "identity.domain.update", other.domain.target(), other.domain))
