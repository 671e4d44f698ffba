"""Import an image from a local file or an HTTP(S) URL.

    importimage PATH_OR_URL --name NAME --disk-format FMT --project DOMAIN_PATH:PROJECT [options]

A file is read here and stored at once. A URL becomes an import job that the
controller's workers run; the command follows its progress until it ends
(`--no-wait` prints the job id and returns).
"""

import time

from django.core.management.base import CommandError

from apps.core.management.base import ServiceCommand
from apps.identity.lookup import project_by_name
from apps.images import formats
from apps.images.models import Image
from apps.images.services import data, records
from apps.jobs.models import Job

POLL_SECONDS = 0.5


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH_OR_URL")
        parser.add_argument("--name", required=True)
        parser.add_argument("--disk-format", required=True, choices=formats.DISK_FORMATS)
        parser.add_argument("--container-format", choices=formats.CONTAINER_FORMATS)
        parser.add_argument("--project", required=True, help="owner, as DOMAIN_PATH:PROJECT_NAME")
        parser.add_argument("--visibility", default=Image.PRIVATE, choices=[v for v, _ in Image.VISIBILITIES])
        parser.add_argument("--protected", action="store_true")
        parser.add_argument("--min-ram-mb", type=int, default=0)
        parser.add_argument("--min-disk-gb", type=int, default=0)
        parser.add_argument("--architecture", default="")
        parser.add_argument("--os-type", default="")
        parser.add_argument("--no-wait", action="store_true", help="for a URL: queue the job and return")

    def run(self, actor, source, project, no_wait, **options):
        if ":" not in project:
            raise CommandError("--project takes DOMAIN_PATH:PROJECT_NAME")
        owner = project_by_name(*project.rsplit(":", 1))
        disk_format = options["disk_format"]
        fields = {
            "owner": owner,
            "name": options["name"],
            "disk_format": disk_format,
            "container_format": options["container_format"]
            or (disk_format if disk_format in formats.AMAZON else formats.BARE),
            "visibility": options["visibility"],
            "protected": options["protected"],
            "min_ram_mb": options["min_ram_mb"],
            "min_disk_gb": options["min_disk_gb"],
            "architecture": options["architecture"],
            "os_type": options["os_type"],
        }
        if not source.startswith(("http://", "https://")):
            image = data.store_file(actor, records.create_image(actor, **fields), source)
            self._report(image)
            return
        image, job = data.create_and_import(actor, url=source, **fields)
        self.stdout.write(f"image {image.pk} queued, import job {job.pk}")
        if not no_wait:
            self._follow(job)
            image.refresh_from_db()
            self._report(image)

    def _follow(self, job):
        shown = None
        while not job.finished:
            time.sleep(POLL_SECONDS)
            job.refresh_from_db()
            progress = (job.state, job.progress, job.progress_message)
            if progress != shown and job.state == Job.RUNNING:
                self.stdout.write(f"  {job.progress:3d}% {job.progress_message}")
            shown = progress
        if job.state == Job.FAILED:
            raise CommandError(f"{job.error_code}: {job.error_message}")

    def _report(self, image):
        self.stdout.write(f"image {image.pk} {image.status} {image.size_bytes} bytes sha256 {image.sha256}")
