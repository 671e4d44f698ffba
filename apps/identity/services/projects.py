"""Projects: create, rename, enable/disable, delete when empty, move to another domain."""

from apps.audit.recorder import audited
from apps.core.errors import ValidationFailed
from apps.quotas import services as quotas

from ..models import Project
from ..ownership import owned_by_projects
from ..project_hooks import project_created
from .common import apply_changes, lock_for_delete, refuse_if_owning, require, save_unique
from .revocation import revoke_project_tokens


def create_project(actor, *, domain, name, description="", enabled=True):
    action = "identity.project.create"
    with audited(actor, action, target=domain.target()) as op:
        require(actor, action, domain.target(), f"You may not create projects in {domain}.")
        project = Project(domain=domain, name=name, description=description, enabled=enabled)
        op.object = project
        save_unique(project, f"A project named '{name}' already exists in {domain}.")
        quotas.ensure_rows(project_ids=[project.pk])
        project_created(project)
    return project


def update_project(actor, project, *, name=None, description=None, enabled=None):
    action = "identity.project.update"
    with audited(actor, action, target=project.admin_target(), obj=project) as op:
        require(actor, action, project.admin_target(), f"You may not change project {project}.")
        changes = apply_changes(project, name=name, description=description, enabled=enabled)
        op.details = {"changes": changes}
        save_unique(project, f"A project named '{project.name}' already exists there.")
        if changes.get("enabled") is False:
            op.details["tokens_revoked"] = revoke_project_tokens(project)
    return project


def delete_project(actor, project):
    action = "identity.project.delete"
    with audited(actor, action, target=project.admin_target(), obj=project):
        require(actor, action, project.admin_target(), f"You may not delete project {project}.")
        lock_for_delete(project)
        refuse_if_owning(f"Project {project}", owned_by_projects([project.pk]), "project_not_empty")
        project.quotas.all().delete()
        project.delete()


def move_project(actor, project, new_domain):
    """Move a project and its quota usage; refused, naming the limit, when the target has no room."""
    action = "identity.project.move"
    with audited(actor, action, target=project.admin_target(), obj=project) as op:
        require(actor, action, project.admin_target(), f"You may not move project {project}.")
        require(actor, action, new_domain.target(), f"You may not move projects into {new_domain}.")
        # Only the project row is locked: locking its domain too would stall every user
        # and project created in that domain until the move commits.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.domain_id == new_domain.pk:
            raise ValidationFailed(f"Project {project} is already in {new_domain}.", code="same_domain")
        op.details = {"from": str(locked.domain_id), "to": str(new_domain.pk)}
        quotas.move_project_usage(locked, new_domain)
        locked.domain = new_domain
        save_unique(locked, f"A project named '{locked.name}' already exists in {new_domain}.")
    return locked
