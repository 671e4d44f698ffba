"""Recompute quota usage from the claims' holders and report drift; --fix corrects it.

Exits 0 when there is no drift (or it was fixed), 1 when drift was found and left.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.quotas.recalc import recalculate


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true")

    def handle(self, *args, fix=False, **options):
        drifts, orphans = recalculate(fix=fix)
        for orphan in orphans:
            self.stdout.write(
                f"orphan claim {orphan.claim_id}: {orphan.holder} holds {orphan.amount} "
                f"{orphan.resource} but no longer exists"
            )
        for d in drifts:
            self.stdout.write(
                f"drift {d.scope} {d.scope_name} ({d.scope_id}) {d.resource}: "
                f"recorded {d.recorded}, expected {d.expected}"
            )
        summary = f"{len(drifts)} drift(s), {len(orphans)} orphan claim(s)"
        if (drifts or orphans) and not fix:
            raise CommandError(f"{summary} found; run recalcquota --fix to correct them", returncode=1)
        self.stdout.write(f"{summary} {'fixed' if fix else 'found'}")
