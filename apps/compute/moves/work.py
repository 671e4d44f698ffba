"""The moves' kinds of host work, registered in ComputeConfig.ready(), and the images their hosts may read."""

from django.db.models import Q

from .. import states
from ..models import Migration
from .cold import ColdMigration, Resize
from .evacuation import Evacuation
from .live import LiveMigration
from .undo import DiscardTarget, FinishSource, RestoreSource

MOVE_KINDS = (
    ColdMigration(),
    Resize(),
    LiveMigration(),
    Evacuation(),
    DiscardTarget(),
    RestoreSource(),
    FinishSource(),
)


def images_for_moves(host):
    """The destination of a move fetches the instance's base image (and kernel, ramdisk) into its cache."""
    arriving = Migration.objects.filter(destination=host, status__in=states.MIGRATION_UNFINISHED)
    return (
        Q(pk__in=arriving.values("instance__image_id"))
        | Q(pk__in=arriving.values("instance__image__kernel_id"))
        | Q(pk__in=arriving.values("instance__image__ramdisk_id"))
    )
