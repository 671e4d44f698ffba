"""Record operations: success inside the operation's transaction, failure on its own connection.

Services wrap each change in `audited(...)`:

    with audited(actor, "identity.project.create", target=domain.target()) as op:
        ...
        op.object = project

The block runs in a transaction. If it raises, the transaction rolls back and
the failure is written on the separate `audit` connection, so it survives.

`op.details` is shown to every reader of the event (a project's members read
its events); facts about the platform that tenants must not learn (the host
an instance runs on) go in `op.platform_details`, shown only to those who read
the platform's events (apps/audit/selectors.py).
"""

import logging
from contextlib import contextmanager

from django.db import transaction

from apps.core.errors import ServiceError
from apps.core.tree import ROOT_PATH

from .models import AuditEvent

log = logging.getLogger(__name__)

PLATFORM_DETAILS = "platform"
# What the log says of a failure that was not a ServiceError: no class name, no internals.
INTERNAL_ERROR = "internal_error"
INTERNAL_MESSAGE = "An internal error stopped the operation; the controller's log has the details."


class Operation:
    def __init__(self, actor, action, target, obj=None):
        self.actor = actor
        self.action = action
        self.target = target
        self.object = obj
        self.details = {}
        self.platform_details = {}
        # Deleting an object clears its primary key: remember which one it was.
        self._before = (obj, obj.pk, str(obj)[:255]) if obj is not None and obj.pk is not None else None

    def _object(self):
        """(type, pk, text) of the object, as it was before the operation if it is gone now."""
        obj = self.object
        if obj is None:
            return "", None, ""
        if obj.pk is None and self._before is not None and self._before[0] is obj:
            return obj._meta.label_lower, self._before[1], self._before[2]
        return obj._meta.label_lower, obj.pk, str(obj)[:255]

    def event(self, outcome, error=None):
        object_type, object_pk, object_repr = self._object()
        target = self.target
        return AuditEvent(
            actor_id=self.actor.user.pk if self.actor.user is not None else None,
            actor_name=self.actor.name,
            interface=self.actor.interface,
            client_address=self.actor.client_address,
            action=self.action,
            object_type=object_type,
            object_id=str(object_pk) if object_pk is not None else "",
            object_repr=object_repr,
            domain_path=target.domain_path if target is not None else ROOT_PATH,
            project_id=(target.project_id if target is not None else None)
            or _project_of(self.object, object_pk),
            outcome=outcome,
            error_code=_code(error),
            error_message=_message(error)[:1024],
            details=self._details(),
        )

    def _details(self):
        details = dict(self.details)
        if self.actor.os_user:
            details["os_user"] = self.actor.os_user
        if self.platform_details:
            details[PLATFORM_DETAILS] = self.platform_details
        return details


def _code(error):
    if error is None:
        return ""
    return error.code if isinstance(error, ServiceError) else INTERNAL_ERROR


def _message(error):
    if error is None:
        return ""
    return error.message if isinstance(error, ServiceError) else INTERNAL_MESSAGE


def _project_of(obj, pk):
    """The project an event is about, when its policy target has none.

    Changing a project is decided in its domain, so the target names no project;
    the event still belongs to the project, and its members see it.
    """
    if obj is None:
        return None
    if obj._meta.label_lower == "identity.project":
        return pk
    return getattr(obj, "project_id", None)


@contextmanager
def audited(actor, action, *, target=None, obj=None):
    operation = Operation(actor, action, target, obj)
    try:
        with transaction.atomic():
            yield operation
            operation.event(AuditEvent.SUCCESS).save()
    except Exception as error:
        _record_failure(operation, error)
        raise


def _record_failure(operation, error):
    if not isinstance(error, ServiceError):
        # Operators reading the platform's events may see which error it was; tenants never do.
        operation.platform_details["exception"] = type(error).__name__
    try:
        operation.event(AuditEvent.FAILURE, error).save(using="audit")
    except Exception:
        log.exception("could not record the failure of %s", operation.action)
