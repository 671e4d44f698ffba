"""The images app's periodic work: killing stalled uploads and purging deleted images."""

from django.db import transaction
from django.utils import timezone

from apps.core.actor import Actor
from apps.core.errors import Conflict

from .models import Image
from .services import data, records


def kill_stalled_uploads(now=None):
    """Kill every image left in `saving` past its deadline (no data for the stall period)."""
    now = now or timezone.now()
    stalled = Image.objects.filter(status=Image.SAVING, upload_deadline__lte=now).values_list(
        "pk", "upload_token"
    )
    killed = 0
    for image_id, token in list(stalled):
        with transaction.atomic():
            killed += data.kill_upload(
                image_id, token, "upload_stalled: no data arrived before the deadline.", stalled_before=now
            )
    return killed


def purge_deleted(now=None, *, ignore_retention=False, actor=None):
    """Purge pending_delete images past their retention; retry data removal that failed before."""
    now = now or timezone.now()
    actor = actor or Actor.system("periodic")
    due = Image.objects.filter(status=Image.PENDING_DELETE).select_related("owner__domain")
    if not ignore_retention:
        due = due.filter(purge_after__lte=now)
    purged = 0
    for image in list(due):
        try:
            records.purge_image(actor, image)
        except Conflict:
            continue  # restored since the query: nothing to purge
        purged += 1
    leftovers = Image.objects.filter(status=Image.DELETED).exclude(location="").values_list("pk", flat=True)
    for image_id in list(leftovers):
        records.remove_data(image_id)
    return purged
