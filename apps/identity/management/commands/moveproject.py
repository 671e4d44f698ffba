"""Move a project to another domain: `moveproject acme/eng:web --to acme/ops`."""

from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path, project_by_name
from apps.identity.services.projects import move_project


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("project", help="DOMAIN_PATH:PROJECT_NAME")
        parser.add_argument("--to", required=True, help="target domain path or id")

    def run(self, actor, project, to, **options):
        if ":" not in project:
            raise CommandError("project takes DOMAIN_PATH:PROJECT_NAME")
        domain_path, name = project.rsplit(":", 1)
        moved = move_project(actor, project_by_name(domain_path, name), domain_by_path(to))
        self.stdout.write(f"project {moved.name} moved to {moved.domain}")
