"""Create a service offering: `createoffering NAME --vcpus 2 --ram-mb 2048 --root-disk-gb 20 [--domain D]`.

`--ha`: when their host is fenced, instances of the offering are rebuilt on another host.
"""

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import domain_by_path

from ...services.offerings import create_offering


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--vcpus", type=int, required=True)
        parser.add_argument("--ram-mb", type=int, required=True)
        parser.add_argument("--root-disk-gb", type=int, required=True)
        parser.add_argument("--ephemeral-disk-gb", type=int, default=0)
        parser.add_argument("--host-tag", dest="host_tags", action="append", default=[])
        parser.add_argument(
            "--domain", dest="domains", action="append", default=[], help="limit to this domain (repeatable)"
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--ha", action="store_true", help="evacuate its instances when their host is fenced"
        )

    def run(self, actor, name, domains, **options):
        limited_to = [domain_by_path(path) for path in domains]
        offering = create_offering(
            actor,
            name=name,
            vcpus=options["vcpus"],
            ram_mb=options["ram_mb"],
            root_disk_gb=options["root_disk_gb"],
            ephemeral_disk_gb=options["ephemeral_disk_gb"],
            host_tags=options["host_tags"],
            description=options["description"],
            ha=options["ha"],
            public=not limited_to,
            domains=limited_to,
        )
        where = "public" if offering.public else "for " + ", ".join(d.name for d in limited_to)
        self.stdout.write(f"offering {offering.name} {offering.pk} ({where})")
