"""Give a role: `assignrole USER ROLE --project acme/eng:web` or `--domain acme/eng`."""

from django.core.management.base import CommandError

from apps.core.errors import NotFound
from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path, project_by_name, user_by_name
from apps.identity.models import Role
from apps.identity.services.roles import assign_role


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--domain", help="domain path or id")
        where.add_argument("--project", help="DOMAIN_PATH:PROJECT_NAME")

    def run(self, actor, username, role, domain, project, **options):
        role_obj = Role.objects.filter(name=role).first()
        if role_obj is None:
            raise NotFound(f"No role {role!r}.")
        if project:
            if ":" not in project:
                raise CommandError("--project takes DOMAIN_PATH:PROJECT_NAME")
            domain_path, name = project.rsplit(":", 1)
            target = {"project": project_by_name(domain_path, name)}
        else:
            target = {"domain": domain_by_path(domain)}
        assign_role(actor, user=user_by_name(username), role=role_obj, **target)
        self.stdout.write(f"{username} has {role} on {next(iter(target.values()))}")
