"""Print the network state a host should have, as its agent gets it (JSON): `hostnetworkstate HOST`."""

import json

from apps.core.management.base import ServiceCommand

from ...host_state import desired_state
from ..arguments import host_named


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("host")

    def run(self, actor, host, **options):
        self.stdout.write(json.dumps(desired_state(host_named(host)).to_dict(), indent=2, sort_keys=True))
