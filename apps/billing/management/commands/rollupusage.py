"""Roll usage up to the last whole hour, draft the invoices it changed, send budget notices due.

The same cycle the controllers run periodically; safe to run while they do.
`--until` (ISO 8601, with its time zone) stops earlier than now.
"""

from datetime import datetime

from django.core.management.base import CommandError

from apps.billing.services.cycle import run_cycle
from apps.core.management.base import ServiceCommand


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--until", help="e.g. 2026-11-30T00:00:00+00:00 (default: now)")

    def run(self, actor, until=None, **options):
        moment = None
        if until:
            try:
                moment = datetime.fromisoformat(until)
            except ValueError as error:
                raise CommandError(f"--until {until!r} is not an ISO 8601 time") from error
            if moment.tzinfo is None:
                raise CommandError("--until needs its time zone, e.g. +00:00")
        self.stdout.write(str(run_cycle(moment)))
