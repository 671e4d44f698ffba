"""Small helpers the identity services share."""

from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, NotFound, PermissionDenied

from ..ownership import in_words


def require(actor, action, target, message):
    if not actor.can(action, target):
        raise PermissionDenied(message)


def apply_changes(obj, **values):
    """Set the given fields that are not None and differ; return {field: new value} of those changed."""
    changes = {
        field: value for field, value in values.items() if value is not None and getattr(obj, field) != value
    }
    for field, value in changes.items():
        setattr(obj, field, value)
    return changes


def save_unique(obj, message):
    """Save, turning a uniqueness violation into a Conflict with a readable message."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise Conflict(message, code="already_exists") from exc
    return obj


def lock_for_delete(obj):
    """Lock the row until the transaction ends, so nothing new is tied to it meanwhile.

    Claims (share locks) and new rows pointing at it (key-share locks) in flight
    finish first and are counted; later ones wait and then find it gone.
    """
    model = type(obj)
    if not model.objects.select_for_update().filter(pk=obj.pk).values_list("pk", flat=True):
        raise NotFound(f"No such {model._meta.verbose_name}.")


def refuse_if_owning(what, owned, code):
    """Refuse to delete `what` while it owns anything, listing what it owns."""
    if owned:
        raise Conflict(f"{what} still owns: {in_words(owned)}.", code=code, details={"owned": owned})
