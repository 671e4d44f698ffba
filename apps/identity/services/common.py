"""Small helpers the identity services share."""

from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, PermissionDenied


def require(actor, action, target, message):
    if not actor.can(action, target):
        raise PermissionDenied(message)


def save_unique(obj, message):
    """Save, turning a uniqueness violation into a Conflict with a readable message."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise Conflict(message, code="already_exists") from exc
    return obj
