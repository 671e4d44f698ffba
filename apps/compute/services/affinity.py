"""Affinity groups: instances placed together on one host, or each on a host of its own."""

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.identity.services.common import require, save_unique

from .. import states
from ..models import AffinityGroup


def create_affinity_group(actor, project, *, name, policy):
    action = "compute.affinity_group.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), "You may not add affinity groups to this project.")
        if policy not in dict(AffinityGroup.POLICIES):
            raise ValidationFailed(
                f"An affinity group's policy is one of: {', '.join(dict(AffinityGroup.POLICIES))}.",
                code="bad_affinity_policy",
            )
        group = AffinityGroup(project=project, name=name, policy=policy)
        op.object = group
        save_unique(group, f"An affinity group named '{name}' already exists in this project.")
    return group


def delete_affinity_group(actor, group):
    action = "compute.affinity_group.delete"
    with audited(actor, action, target=group.target(), obj=group):
        require(actor, action, group.target(), "You may not delete this affinity group.")
        live = (
            AffinityGroup.objects.select_for_update()
            .get(pk=group.pk)
            .instances.exclude(vm_state=states.DELETED)
        )
        if live.exists():
            raise Conflict(f"Affinity group {group} still has instances.", code="affinity_group_not_empty")
        group.delete()
