"""Create a domain: `createdomain NAME --parent acme/eng`."""

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path
from apps.identity.services.domains import create_domain


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--parent", default="ROOT", help="parent domain path or id")
        parser.add_argument("--description", default="")

    def run(self, actor, name, parent, description, **options):
        domain = create_domain(actor, parent=domain_by_path(parent), name=name, description=description)
        self.stdout.write(f"domain {name} {domain.pk}")
