"""Create a project: `createproject NAME --domain acme/eng`."""

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path
from apps.identity.services.projects import create_project


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--domain", default="ROOT", help="domain path or id")
        parser.add_argument("--description", default="")

    def run(self, actor, name, domain, description, **options):
        project = create_project(actor, domain=domain_by_path(domain), name=name, description=description)
        self.stdout.write(f"project {name} {project.pk}")
