"""Create the controller's task signing key: `createsigningkey [--rotate]`.

Writes CLOUDMGR_TASK_SIGNING_KEY_FILE (0600) and prints the public key. With
--rotate an existing key is replaced: add the old public key (printed first) to
CLOUDMGR_TASK_SIGNING_PREVIOUS_PUBLIC_KEYS until every agent has re-enrolled.
"""

from django.conf import settings
from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.infrastructure import task_key


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true", help="replace an existing key")

    def run(self, actor, rotate, **options):
        path = settings.CLOUDMGR_TASK_SIGNING_KEY_FILE
        if rotate:
            try:
                self.stdout.write(f"previous public key: {task_key.controller_public_keys()[0]}")
            except Exception as exc:
                raise CommandError(f"no readable key to rotate at {path}: {exc}") from exc
        try:
            public = task_key.create_key_file(path, replace=rotate)
        except FileExistsError as exc:
            raise CommandError(f"{path} exists; use --rotate to replace it") from exc
        self.stdout.write(f"task signing key written to {path}")
        self.stdout.write(f"public key: {public}")
