"""Purge deleted images: those past their retention (as the periodic job does), or all, or one.

purgeimages            images pending deletion past CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS
purgeimages --all      every image pending deletion, retention or not
purgeimages --image ID one image pending deletion
"""

from apps.core.management.base import ServiceCommand
from apps.core.scoping import get_or_404
from apps.images.models import Image
from apps.images.periodic import purge_deleted
from apps.images.services import records


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument("--all", action="store_true", help="ignore the retention period")
        choice.add_argument("--image", help="the id of one image pending deletion")

    def run(self, actor, all, image, **options):
        if image:
            records.purge_image(
                actor, get_or_404(Image.objects.select_related("owner__domain"), "image", pk=image)
            )
            self.stdout.write(f"purged 1 image ({image})")
            return
        purged = purge_deleted(ignore_retention=all, actor=actor)
        self.stdout.write(f"purged {purged} image(s)")
