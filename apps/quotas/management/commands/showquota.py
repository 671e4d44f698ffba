"""Show limits and usage: `showquota --project acme:web` or `--domain acme`."""

from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path, project_by_name
from apps.quotas.services import usage_of


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--domain")
        where.add_argument("--project", help="DOMAIN_PATH:PROJECT_NAME")

    def run(self, actor, domain, project, **options):
        if project:
            if ":" not in project:
                raise CommandError("--project takes DOMAIN_PATH:PROJECT_NAME")
            scope = project_by_name(*project.rsplit(":", 1))
        else:
            scope = domain_by_path(domain)
        self.stdout.write(f"{'resource':<20} {'used':>12} {'limit':>12}")
        for resource, (limit, used) in usage_of(scope).items():
            shown = "unlimited" if limit == -1 else str(limit)
            self.stdout.write(f"{resource:<20} {used:>12} {shown:>12}")
