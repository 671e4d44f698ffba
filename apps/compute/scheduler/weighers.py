"""The built-in weighers: free RAM (spread or stack) and chance."""

from django.conf import settings
from django.db.models.functions import Random

from apps.infrastructure import capacity

from .base import Weigher


class RamWeigher(Weigher):
    """More free RAM weighs more; a negative multiplier fills the fullest host first (stacking).

    Free RAM is the stored limit minus what is used: alone, this weigher walks the
    host_schedulable_free_ram index and stops at the first hosts that pass the filters.
    """

    name = "ram"

    def expression(self, request):
        return capacity.free_ram_mb()

    @property
    def multiplier(self):
        return settings.CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER


class ChanceWeigher(Weigher):
    """A random order: every host that passes the filters is as likely as any other.

    Each page of candidates is drawn anew from the hosts not tried yet, which is
    still a uniform draw without replacement.
    """

    name = "chance"

    def expression(self, request):
        return Random()


WEIGHERS = (RamWeigher, ChanceWeigher)
