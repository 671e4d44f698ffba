"""Seed the small demo `make run` shows: domain `demo`, project `demo`, user `demo`, a member of it.

Idempotent: what exists is kept, and the demo user's password is set to
CLOUDMGR_DEMO_PASSWORD (from var/demo-password) so the login `make run`
prints always works. Everything goes through the services, so it is audited.
"""

import os
import sys
from pathlib import Path

import django

DEMO = "demo"


def seed(password):
    from apps.identity import policy
    from apps.identity.actor import Actor
    from apps.identity.models import ROOT_DOMAIN_ID, Domain, Project, Role, RoleAssignment, User
    from apps.identity.services import domains, projects, roles, users

    actor = Actor.system("cli")
    root = Domain.objects.get(pk=ROOT_DOMAIN_ID)
    domain = Domain.objects.filter(parent=root, name=DEMO).first() or domains.create_domain(
        actor, parent=root, name=DEMO, description="The demo tenant of make run"
    )
    project = Project.objects.filter(domain=domain, name=DEMO).first() or projects.create_project(
        actor, domain=domain, name=DEMO, description="The demo project of make run"
    )
    user = User.objects.filter(username=DEMO).first()
    if user is None:
        user = users.create_user(actor, domain=domain, username=DEMO, password=password)
    elif not user.check_password(password):
        users.set_password(actor, user, password)
    member = Role.objects.get(name=policy.PROJECT_MEMBER)
    if not RoleAssignment.objects.filter(user=user, role=member, project=project).exists():
        roles.assign_role(actor, user=user, role=member, project=project)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")
    django.setup()
    seed(os.environ["CLOUDMGR_DEMO_PASSWORD"])
