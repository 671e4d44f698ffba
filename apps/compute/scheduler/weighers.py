"""The built-in weighers: free RAM (spread or stack) and chance."""

from django.conf import settings
from django.db.models import F, FloatField, Func, TextField, Value
from django.db.models.functions import MD5, Cast, Concat, Substr

from apps.infrastructure import capacity

from .base import Weigher, register_weigher


@register_weigher
class RamWeigher(Weigher):
    """More free RAM weighs more; a negative multiplier fills the fullest host first (stacking)."""

    name = "ram"

    def expression(self, request):
        return capacity.free_ram_mb()

    @property
    def multiplier(self):
        return settings.CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER


class _HexToUnit(Func):
    """Eight hex digits read as a number from 0 to 1."""

    template = "(('x' || %(expressions)s)::bit(32)::bigint / 4294967295.0)"
    output_field = FloatField()


@register_weigher
class ChanceWeigher(Weigher):
    """A random order: every host that passes the filters is as likely as any other.

    The number comes from the host id and the request's seed, so it stays the same
    while one placement walks through its candidates page by page.
    """

    name = "chance"

    def expression(self, request):
        digest = MD5(Concat(Cast(F("id"), TextField()), Value(request.seed), output_field=TextField()))
        return _HexToUnit(Substr(digest, 1, 8))
