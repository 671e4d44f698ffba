"""Add a host and print its one-time enrollment token: `addhost NAME --zone Z [--ip A] [--tag T …]`.

`--new-token` prints a fresh token for an existing host (re-enrollment, key rotation: the
agent signs it with its current key); with `--key-lost` the current key is revoked now and the
token enrolls without it.
"""

from apps.core.errors import NotFound
from apps.core.management.base import ServiceCommand
from apps.infrastructure.models import Zone
from apps.infrastructure.selectors import host_named
from apps.infrastructure.services.hosts import add_host, issue_enrollment_token
from apps.infrastructure.services.zones import create_zone


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--zone", help="zone name (required for a new host)")
        parser.add_argument("--create-zone", action="store_true", help="create the zone when it is missing")
        parser.add_argument("--ip", dest="management_ip", default=None, help="management address")
        parser.add_argument("--tag", dest="tags", action="append", default=[])
        parser.add_argument("--isolated", action="store_true")
        parser.add_argument("--domain-type", choices=["auto", "kvm", "qemu"], default="auto")
        parser.add_argument("--new-token", action="store_true", help="re-enroll an existing host")
        parser.add_argument("--key-lost", action="store_true", help="with --new-token: revoke the lost key")

    def run(self, actor, name, new_token, key_lost, **options):
        if new_token:
            token = issue_enrollment_token(actor, host_named(name), key_lost=key_lost)
            host = host_named(name)
        else:
            host, token = add_host(
                actor,
                name=name,
                zone=self._zone(actor, options["zone"], options["create_zone"]),
                management_ip=options["management_ip"],
                tags=options["tags"],
                isolated=options["isolated"],
                domain_type=options["domain_type"],
            )
        self.stdout.write(f"host {host.name} {host.pk} ({host.state})")
        self.stdout.write(f"enrollment token (shown once): {token}")
        self.stdout.write(f"on the host: python -m agent enroll --controller URL --token {token}")

    @staticmethod
    def _zone(actor, name, create):
        if not name:
            raise NotFound("A new host needs --zone.")
        zone = Zone.objects.filter(name=name).first()
        if zone is not None:
            return zone
        if create:
            return create_zone(actor, name=name)
        raise NotFound(f"No zone {name!r} (add --create-zone to create it).")
