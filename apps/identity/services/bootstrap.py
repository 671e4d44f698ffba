"""First start of a cloud: ROOT, the default roles and rules, a cloud admin. Idempotent."""

from django.db import transaction

from apps.audit.recorder import audited
from apps.core import policy
from apps.core.actor import Actor
from apps.core.tree import PLATFORM, ROOT_DOMAIN_ID, ROOT_PATH

from .. import signals
from ..models import Domain, Role, RoleAssignment, Rule, User


@transaction.atomic
def bootstrap(*, admin_username=None, admin_password=None):
    """Create what is missing and return (root domain, admin user or None).

    An existing admin's password is left alone unless a new one is given.
    """
    root, _ = Domain.objects.get_or_create(
        id=ROOT_DOMAIN_ID,
        defaults={"name": "ROOT", "path": ROOT_PATH, "depth": 0, "description": "The whole cloud"},
    )
    signals.domain_created.send(Domain, domain=root)
    for name, description, patterns in policy.default_rules():
        role, created = Role.objects.get_or_create(name=name, defaults={"description": description})
        if created:
            Rule.objects.bulk_create([Rule(role=role, action=p) for p in patterns])
    admin = None
    if admin_username:
        admin = _ensure_admin(root, admin_username, admin_password)
    return root, admin


def _ensure_admin(root, username, password):
    """The cloud admin, created or given a new password; audited as the command line's doing."""
    with audited(Actor.system("cli"), "identity.bootstrap.admin", target=PLATFORM) as op:
        admin, created = User.objects.get_or_create(username=username, defaults={"domain": root})
        if created or password:
            admin.set_password(password)
            admin.save()
        RoleAssignment.objects.get_or_create(
            user=admin, role=Role.objects.get(name=policy.CLOUD_ADMIN), domain=root
        )
        op.object = admin
        op.details = {"created": created, "password_set": bool(created or password)}
    return admin
