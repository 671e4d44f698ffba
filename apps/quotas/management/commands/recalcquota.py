"""Recompute quota usage from the objects that hold quota and their claims, report drift; --fix corrects it.

Exits 0 when there is no drift (or it was fixed), 1 when drift was found and left.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.quotas.recalc import recalculate


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true")

    def handle(self, *args, fix=False, **options):
        found = recalculate(fix=fix)
        for orphan in found.orphans:
            self.stdout.write(
                f"orphan claim {orphan.claim_id}: {orphan.holder} holds {orphan.amount} "
                f"{orphan.resource} but no longer exists"
            )
        for unheld in found.unheld:
            self.stdout.write(
                f"unheld claim: {unheld.holder} holds {unheld.held} {unheld.resource} "
                f"but should hold {unheld.expected}"
            )
        for d in found.drifts:
            self.stdout.write(
                f"drift {d.scope} {d.scope_name} ({d.scope_id}) {d.resource}: "
                f"recorded {d.recorded}, expected {d.expected}"
            )
        if not found.clean and not fix:
            raise CommandError(
                f"{found.summary()} found; run recalcquota --fix to correct them", returncode=1
            )
        self.stdout.write(f"{found.summary()} {'fixed' if fix else 'found'}")
