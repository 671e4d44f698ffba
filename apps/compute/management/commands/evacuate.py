"""Rebuild a fenced host's instances elsewhere: `evacuate (--instance ID… | --host H) [--to HOST [--force]]`.

Fence the host first (`manage.py fencehost NAME --confirm-powered-off`): only the
instances of a fenced host are evacuated, from their images.
"""

from apps.core.errors import ServiceError
from apps.core.management.base import ServiceCommand
from apps.core.scoping import get_or_404
from apps.infrastructure.selectors import host_named

from ... import states
from ...models import Instance
from ...services.moves import evacuate


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--instance", dest="instances", action="append", help="an instance id (repeatable)"
        )
        which.add_argument("--host", help="every instance of this fenced host")
        parser.add_argument("--to", help="the host to rebuild them on (default: the scheduler's choice)")
        parser.add_argument("--force", action="store_true", help="skip the scheduler's filters for --to")

    def run(self, actor, instances, host, to, force, **options):
        if host:
            targets = list(Instance.objects.filter(host=host_named(host)).exclude(vm_state=states.DELETED))
        else:
            targets = [get_or_404(Instance.objects.all(), "instance", pk=pk) for pk in instances]
        destination = host_named(to).pk if to else None
        refused = 0
        for instance in targets:
            try:
                job = evacuate(actor, instance, host_id=destination, force=force)
            except ServiceError as error:
                refused += 1
                self.stderr.write(f"{instance.name} {instance.pk}: {error.code}: {error.message}")
                continue
            self.stdout.write(f"{instance.name} {instance.pk}: evacuating (job {job.pk})")
        if refused:
            self.stderr.write(f"{refused} of {len(targets)} instances were not evacuated")
