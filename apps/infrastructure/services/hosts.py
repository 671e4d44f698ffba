"""Hosts, as admins see them: add (with an enrollment token), change flags and limits, remove.

The maintenance switch is set here for every interface (the portal's switch, the
API's PATCH, `manage.py hostmaintenance`): a host in maintenance gets no new
instances, and the apps above learn of it (maintenance_changed) in the same
transaction, where compute starts draining it.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import require, save_unique

from .. import capacity, signals, wire
from ..models import EnrollmentToken, Host, host_name_validator
from .common import refuse_if_used

log = logging.getLogger(__name__)

# What an admin may change on a host; capacity comes from heartbeats only.
HOST_UPDATE = "infrastructure.host.update"
UPDATABLE = (
    "enabled",
    "maintenance",
    "isolated",
    "tags",
    "domain_type",
    "management_ip",
    "ram_allocation_ratio",
    "cpu_allocation_ratio",
    "disk_allocation_ratio",
    "reserved_host_memory_mb",
    "reserved_host_disk_mb",
)


def token_hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def normalized_tags(tags):
    return sorted({tag.strip() for tag in tags or () if tag.strip()})


def add_host(actor, *, name, zone, **options):
    """Record a host in `enrolling` state; returns (host, one-time enrollment token)."""
    action = "infrastructure.host.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators add hosts.")
        _check_name(name)
        _check_updatable(options)
        options.setdefault("reserved_host_memory_mb", settings.CLOUDMGR_RESERVED_HOST_MEMORY_MB)
        options.setdefault("reserved_host_disk_mb", settings.CLOUDMGR_RESERVED_HOST_DISK_MB)
        options["tags"] = normalized_tags(options.get("tags"))
        host = Host(name=name, zone=zone, **options)
        op.object = host
        save_unique(host, f"A host named '{name}' already exists.")
        raw = _new_token(host)
    return host, raw


def issue_enrollment_token(actor, host, *, key_lost=False):
    """A fresh one-time token for (re-)enrolling the host; earlier unused tokens stop working.

    An enrolled host that uses it rotates its key, signing with the current one.
    `key_lost`: the host lost its key, so the key is revoked now (nothing signed
    with it is accepted any more) and the token enrolls without it.
    """
    action = "infrastructure.host.enroll"
    with audited(actor, action, target=PLATFORM, obj=host) as op:
        require(actor, action, PLATFORM, "Only cloud administrators enroll hosts.")
        op.details = {"key_lost": key_lost}
        if key_lost:
            Host.objects.filter(pk=host.pk).update(public_key="")
        return _new_token(host, replaces_lost_key=key_lost)


def _new_token(host, replaces_lost_key=False):
    host.enrollment_tokens.filter(used_at__isnull=True).delete()
    # Hex: a token never starts with "-", which a command line would take for an option.
    raw = secrets.token_hex(32)
    lifetime = timedelta(seconds=settings.CLOUDMGR_ENROLLMENT_TOKEN_LIFETIME_SECONDS)
    EnrollmentToken.objects.create(
        host=host,
        token_hash=token_hash(raw),
        expires_at=timezone.now() + lifetime,
        replaces_lost_key=replaces_lost_key,
    )
    return raw


def update_host(actor, host, **changes):
    with audited(actor, HOST_UPDATE, target=PLATFORM, obj=host) as op:
        require(actor, HOST_UPDATE, PLATFORM, "Only cloud administrators change hosts.")
        _check_updatable(changes)
        if "tags" in changes:
            changes["tags"] = normalized_tags(changes["tags"])
        # Only the named columns are written, so a concurrent heartbeat or claim is never overwritten.
        op.details = {"changes": {k: v for k, v in changes.items() if getattr(host, k) != v}}
        # Locked: the maintenance switch flips once, and its drain starts once.
        was = Host.objects.select_for_update().values_list("maintenance", flat=True).get(pk=host.pk)
        if changes.get("maintenance") and not was:
            changes = {**changes, "maintenance_since": timezone.now()}
        Host.objects.filter(pk=host.pk).update(**changes)
        capacity.refresh_limits(Host.objects.filter(pk=host.pk))
        host.refresh_from_db()
        if "maintenance" in changes and changes["maintenance"] != was:
            signals.maintenance_changed.send(sender=Host, host=host, on=host.maintenance, actor=actor)
    return host


def set_maintenance(actor, host, on):
    """Put the host in maintenance (it gets no new instances and is drained) or return it to service."""
    return update_host(actor, host, maintenance=on)


def delete_host(actor, host):
    """Remove a host that holds nothing; its key goes with it, and its queue with what waits there."""
    action = "infrastructure.host.delete"
    with audited(actor, action, target=PLATFORM, obj=host):
        require(actor, action, PLATFORM, "Only cloud administrators remove hosts.")
        Host.objects.select_for_update().filter(pk=host.pk).first()
        occupants = signals.occupants_of(host)
        if occupants:
            raise Conflict(
                f"Host {host} still holds {', '.join(occupants)}: move or delete them first.",
                code="host_not_empty",
            )
        refuse_if_used(host, f"Host {host} still holds instances.", "host_not_empty")
        transaction.on_commit(lambda: _drop_queue(host.name), robust=True)


def _drop_queue(host_name):
    try:
        wire.delete_queue(host_name)
    except (KombuError, OSError) as error:
        log.warning("could not remove the queue of host %s: %s", host_name, error)


def _check_name(name):
    try:
        host_name_validator(name)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="bad_host_name") from exc


def _check_updatable(changes):
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed(f"These host fields cannot be set: {', '.join(sorted(unknown))}.")
