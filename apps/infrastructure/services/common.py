"""Helpers the infrastructure services share."""

from django.db import transaction
from django.db.models import ProtectedError

from apps.core.errors import Conflict


def refuse_if_used(obj, message, code):
    """Delete `obj`, or raise Conflict when other rows still point at it."""
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        raise Conflict(message, code=code) from exc
