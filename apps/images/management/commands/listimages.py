"""List images: `listimages [--project DOMAIN_PATH:PROJECT] [--status S] [--deleted]`."""

from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import project_by_name
from apps.images.models import Image

COLUMNS = "{:<36} {:<24} {:<14} {:<6} {:>14} {:<8} {}"


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--project", help="only this project's, as DOMAIN_PATH:PROJECT_NAME")
        parser.add_argument("--status", choices=[s for s, _ in Image.STATUSES])
        parser.add_argument("--deleted", action="store_true", help="include deleted images")

    def run(self, actor, project, status, deleted, **options):
        images = Image.objects.select_related("owner").order_by("owner__name", "name")
        if project:
            if ":" not in project:
                raise CommandError("--project takes DOMAIN_PATH:PROJECT_NAME")
            images = images.filter(owner=project_by_name(*project.rsplit(":", 1)))
        if status:
            images = images.filter(status=status)
        elif not deleted:
            images = images.exclude(status=Image.DELETED)
        self.stdout.write(
            COLUMNS.format("ID", "NAME", "STATUS", "FORMAT", "SIZE BYTES", "VISIBLE", "PROJECT")
        )
        for image in images:
            status_text = image.status + (" (deactivated)" if image.deactivated else "")
            self.stdout.write(
                COLUMNS.format(
                    str(image.pk),
                    image.name[:24],
                    status_text,
                    image.disk_format,
                    "-" if image.size_bytes is None else image.size_bytes,
                    image.visibility,
                    image.owner.name,
                )
            )
