"""The image state machine: every allowed status change, each one a compare-and-set UPDATE.

    queued ──▶ saving ──▶ active ──▶ pending_delete ──▶ deleted
       │          │         │  ▲            │
       │          ▼         │  └── restore ─┘
       └──────▶ killed ─────┴──────────────────────▶ deleted

Whoever wins the UPDATE (`… WHERE id = %s AND status = old`) owns the
consequence; a loser gets False and must not act on the image.
"""

from django.utils import timezone

from .models import Image

TRANSITIONS = {
    Image.QUEUED: {Image.SAVING, Image.KILLED, Image.DELETED},
    Image.SAVING: {Image.ACTIVE, Image.KILLED, Image.DELETED},
    Image.ACTIVE: {Image.PENDING_DELETE, Image.DELETED},
    Image.KILLED: {Image.DELETED},
    Image.PENDING_DELETE: {Image.ACTIVE, Image.DELETED},
    Image.DELETED: set(),
}


class IllegalTransition(ValueError):
    pass


def allowed(old, new):
    return new in TRANSITIONS[old]


def transition(image_id, old, new, *, where=None, **fields):
    """Move the image from `old` (a status or a tuple of them) to `new`; True if this call did it.

    `where` adds conditions (e.g. the upload token), `fields` are set in the same UPDATE.
    """
    olds = (old,) if isinstance(old, str) else tuple(old)
    for status in olds:
        if not allowed(status, new):
            raise IllegalTransition(f"an image cannot go from {status} to {new}")
    updated = Image.objects.filter(pk=image_id, status__in=olds, **(where or {})).update(
        status=new, updated_at=timezone.now(), **fields
    )
    return updated == 1


def set_flag(image_id, field, value, *, status=Image.ACTIVE):
    """Flip a boolean flag (deactivated) on an image in `status`, only if it is not already so."""
    updated = (
        Image.objects.filter(pk=image_id, status=status)
        .exclude(**{field: value})
        .update(**{field: value, "updated_at": timezone.now()})
    )
    return updated == 1
