"""Start or end a host's maintenance (its instances move away): `hostmaintenance NAME --on|--off [--wait S]`.

The same service as the portal's switch and the API's PATCH. With `--wait`, the
command prints the drain's progress, instance by instance, until every instance
has moved or stays for a reason it gives (or the seconds run out).
"""

import time

from apps.core.management.base import ServiceCommand
from apps.infrastructure.selectors import host_named
from apps.infrastructure.services.hosts import set_maintenance

from ...services.maintenance import progress

POLL_SECONDS = 1.0
SETTLED = ("done", "stays", "failed", "error")


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        switch = parser.add_mutually_exclusive_group(required=True)
        switch.add_argument("--on", dest="on", action="store_true", help="start maintenance: drain the host")
        switch.add_argument("--off", dest="on", action="store_false", help="end maintenance")
        parser.add_argument(
            "--wait", type=float, default=0, help="print the drain's progress for so many seconds"
        )

    def run(self, actor, name, on, wait, **options):
        host = set_maintenance(actor, host_named(name), on)
        self.stdout.write(f"host {host.name}: maintenance {'on: draining' if on else 'off: back in service'}")
        if not (on and wait):
            return
        deadline = time.monotonic() + wait
        while True:
            rows = progress(host_named(name))
            if all(row.status in SETTLED for row in rows) or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
        for row in rows:
            where = f" -> {row.destination}" if row.destination else ""
            note = f" ({row.note})" if row.note else ""
            move = f"{row.kind or '-'} {row.status} {row.progress}%"
            self.stdout.write(f"{row.instance.name} {row.instance.pk}: {move}{where}{note}")
        moved = sum(row.status == "done" for row in rows)
        self.stdout.write(f"{moved} of {len(rows)} instances moved")
