"""Domains: create in the tree, rename, enable/disable, delete when empty."""

import uuid

from apps.audit.recorder import audited
from apps.core.errors import ValidationFailed

from .. import signals
from ..models import Domain
from ..ownership import owned_by_domain
from .common import apply_changes, lock_for_delete, refuse_if_owning, require, save_unique
from .last_admin import refuse_disabling_the_last_cloud_admins_domain
from .revocation import revoke_domain_tokens


def create_domain(actor, *, parent, name, description="", enabled=True):
    action = "identity.domain.create"
    with audited(actor, action, target=parent.target()) as op:
        require(actor, action, parent.target(), f"You may not create domains in {parent}.")
        domain_id = uuid.uuid4()
        domain = Domain(
            id=domain_id,
            parent=parent,
            name=name,
            description=description,
            enabled=enabled,
            path=f"{parent.path}{domain_id.hex}/",
            depth=parent.depth + 1,
        )
        op.object = domain
        save_unique(domain, f"A domain named '{name}' already exists in {parent}.")
        signals.domain_created.send(Domain, domain=domain)
    return domain


def update_domain(actor, domain, *, name=None, description=None, enabled=None):
    action = "identity.domain.update"
    with audited(actor, action, target=domain.admin_target(), obj=domain) as op:
        require(actor, action, domain.admin_target(), f"You may not change domain {domain}.")
        if domain.is_root and enabled is False:
            raise ValidationFailed("The ROOT domain cannot be disabled.", code="root_domain")
        if enabled is False and domain.enabled:
            refuse_disabling_the_last_cloud_admins_domain(domain)
        changes = apply_changes(domain, name=name, description=description, enabled=enabled)
        op.details = {"changes": changes}
        save_unique(domain, f"A domain named '{domain.name}' already exists there.")
        if changes.get("enabled") is False:
            op.details["tokens_revoked"] = revoke_domain_tokens(domain)
    return domain


def delete_domain(actor, domain):
    action = "identity.domain.delete"
    with audited(actor, action, target=domain.admin_target(), obj=domain):
        require(actor, action, domain.admin_target(), f"You may not delete domain {domain}.")
        if domain.is_root:
            raise ValidationFailed("The ROOT domain cannot be deleted.", code="root_domain")
        lock_for_delete(domain)
        refuse_if_owning(f"Domain {domain}", owned_by_domain(domain), "domain_not_empty")
        signals.domain_deleting.send(Domain, domain=domain)
        domain.delete()
