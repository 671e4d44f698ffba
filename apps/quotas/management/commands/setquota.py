"""Set a limit: `setquota RESOURCE LIMIT --project acme:web | --domain acme | --default` (-1: none)."""

from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path, project_by_name
from apps.quotas.services import set_default_limit, set_limit, usage_of


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("resource")
        parser.add_argument("limit", type=int)
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--domain")
        where.add_argument("--project", help="DOMAIN_PATH:PROJECT_NAME")
        where.add_argument("--default", action="store_true", help="the default for new projects")

    def run(self, actor, resource, limit, domain, project, default, **options):
        if default:
            set_default_limit(actor, resource, limit)
            self.stdout.write(f"default {resource} limit {limit}")
            return
        if project:
            if ":" not in project:
                raise CommandError("--project takes DOMAIN_PATH:PROJECT_NAME")
            scope = project_by_name(*project.rsplit(":", 1))
        else:
            scope = domain_by_path(domain)
        set_limit(actor, scope, resource, limit)
        limit, used = usage_of(scope)[resource]
        self.stdout.write(f"{scope} {resource} limit {limit} used {used}")
