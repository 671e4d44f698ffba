"""Warm hosts' image caches: `prefetchimage IMAGE --hosts h1,h2` (IMAGE: id or name); one job per host."""

import uuid

from apps.compute.prefetch import prefetch_image
from apps.core.errors import Conflict, NotFound
from apps.core.management.base import ServiceCommand
from apps.images.models import Image
from apps.infrastructure.models import Host


def _image(reference):
    images = Image.objects.exclude(status=Image.DELETED)
    try:
        found = list(images.filter(pk=uuid.UUID(reference)))
    except ValueError:
        found = list(images.filter(name=reference)[:2])
    if not found:
        raise NotFound(f"There is no image {reference}.", code="image_not_found")
    if len(found) > 1:
        raise Conflict(f"Several images are named {reference}: give its id.", code="image_ambiguous")
    return found[0]


def _hosts(names):
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    hosts = list(Host.objects.filter(name__in=wanted).order_by("name"))
    unknown = sorted(set(wanted) - {host.name for host in hosts})
    if unknown or not hosts:
        raise NotFound(f"No such host: {', '.join(unknown) or names}.", code="host_not_found")
    return hosts


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("image", help="the image's id or name")
        parser.add_argument("--hosts", required=True, help="comma-separated host names")

    def run(self, actor, image, hosts, **options):
        hosts = _hosts(hosts)
        for job, host in zip(prefetch_image(actor, _image(image), hosts), hosts, strict=True):
            self.stdout.write(f"{host.name}: job {job.pk}")
