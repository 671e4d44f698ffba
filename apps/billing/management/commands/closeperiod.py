"""Finalize every invoice of a billing period: `closeperiod [2026-11]` (default: the last period).

The period must be over (by CLOUDMGR_BILLING_CLOSE_AFTER_SECONDS) and rolled up
to its end; its invoices are drafted a last time from the usage, then numbered
and frozen. Running it again finalizes what is left (nothing, or invoices of
usage that arrived late).
"""

from django.utils import timezone

from apps.billing.periods import period_named, period_of
from apps.billing.services.invoices import close_period
from apps.core.management.base import ServiceCommand


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("period", nargs="?", help="e.g. 2026-11 (default: the period before this one)")

    def run(self, actor, period=None, **options):
        closing = period_named(period) if period else period_of(timezone.now()).previous()
        finalized = close_period(actor, closing)
        self.stdout.write(f"period {closing.label}: {finalized} invoice(s) finalized")
