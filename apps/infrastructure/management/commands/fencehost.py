"""Fence a host that stopped answering: `fencehost NAME --confirm-powered-off` (or `--return` it to service).

Fencing is your word that the host is off: its instances of HA offerings are
evacuated (rebuilt elsewhere from their image) and the others go to error, to be
evacuated by hand. If its agent ever comes back, it destroys those guests.
"""

from apps.core.management.base import ServiceCommand
from apps.infrastructure.selectors import host_named
from apps.infrastructure.services.fencing import fence_host, return_to_service


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--confirm-powered-off", action="store_true", help="the host is off: fence it")
        what.add_argument(
            "--return", dest="back", action="store_true", help="return a fenced host to service"
        )

    def run(self, actor, name, confirm_powered_off, back, **options):
        host = host_named(name)
        if back:
            host = return_to_service(actor, host)
            self.stdout.write(
                f"host {host.name} is {host.state}: it is up again with its agent's next heartbeat"
            )
            return
        host = fence_host(actor, host, confirmed_off=confirm_powered_off)
        self.stdout.write(f"host {host.name} is {host.state}")
