"""Image data in and out: upload, import from a URL, register an external URL, store a file, read.

Every way in follows one path (`_fill`): the image goes queued → saving
(compare-and-set, with a fresh upload token), the bytes stream through the
inspector into a store writer's staging file while the stall deadline is
pushed forward, then one transaction claims the storage quota, commits the
file (atomic rename) and moves saving → active. Any failure on the way kills
the image with the reason and removes what was written: an image is never
half-active.
"""

import hashlib
import os
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.actor import Actor
from apps.core.errors import Conflict, PermissionDenied, ServiceError
from apps.core.policy import Principal
from apps.core.tree import PLATFORM
from apps.identity.models import User
from apps.identity.services.common import require
from apps.jobs.models import Job
from apps.jobs.services import create_job
from apps.quotas import services as quotas
from apps.quotas.resources import gib_rounded_up

from .. import ingest, remote, states, usage
from ..models import Image
from ..stores import StoreError, default_store, get_store
from ..stores.filesystem import FilesystemStore
from . import records
from .common import STORAGE, locked, storage_headroom

IMPORT_JOB = "images.import"


class UploadAborted(Conflict):
    code = "upload_aborted"


class UploadFailed(ServiceError):
    code = "upload_failed"


class StoreUnavailable(ServiceError):
    status = 503
    code = "store_unavailable"


class _Body:
    """A request body or a local file as a source: read(n), length, close()."""

    def __init__(self, read, length, close=None):
        self.read = read
        self.length = length
        self._close = close

    def close(self):
        if self._close is not None:
            self._close()


class _KeepAlive:
    """Push the stall deadline forward while data arrives; stop if the image left `saving`."""

    def __init__(self, image_id, token):
        self.image_id = image_id
        self.token = token
        self.next_at = 0.0

    def __call__(self):
        now = time.monotonic()
        if now < self.next_at:
            return
        stall = settings.CLOUDMGR_IMAGE_UPLOAD_STALL_SECONDS
        alive = Image.objects.filter(pk=self.image_id, status=Image.SAVING, upload_token=self.token).update(
            upload_deadline=timezone.now() + timedelta(seconds=stall)
        )
        if not alive:
            raise UploadAborted(
                "The image stopped saving (deleted, or killed as stalled) while data arrived."
            )
        self.next_at = now + max(1.0, stall / 4)


def _begin(image, token, source, store):
    stall = timedelta(seconds=settings.CLOUDMGR_IMAGE_UPLOAD_STALL_SECONDS)
    started = states.transition(
        image.pk,
        Image.QUEUED,
        Image.SAVING,
        source=source,
        store=store.name,
        upload_token=token,
        upload_deadline=timezone.now() + stall,
    )
    if not started:
        image.refresh_from_db(fields=["status"])
        raise Conflict(
            f"Image {image} is {image.status}: data can only be sent to a queued image.",
            code="image_not_queued",
        )


def _as_service_error(error):
    if isinstance(error, ServiceError):
        return error
    if isinstance(error, StoreError):
        return StoreUnavailable(f"The image store failed: {error}.")
    return UploadFailed(f"The data stopped arriving ({type(error).__name__}: {error}).")


def _audit_failure(actor, action, image, error):
    """Record a failed operation whose own changes (the kill) are committed, not rolled back."""
    try:
        with audited(actor, action, target=image.target(), obj=image):
            raise error
    except ServiceError:
        pass


def _holds(image_id, store, token):
    """True when this upload's data became the image's live copy (never discard it then)."""
    return Image.objects.filter(
        pk=image_id,
        status__in=(Image.ACTIVE, Image.PENDING_DELETE),
        store=store.name,
        location=store.upload_location(image_id, token),
    ).exists()


def kill_upload(image_id, token, reason, *, from_statuses=(Image.SAVING,), stalled_before=None):
    """Kill the upload `token` of an image (compare-and-set), then remove its leftovers. Idempotent.

    With `stalled_before`, only if the upload's deadline is still before it (no data came meanwhile).
    """
    where = {"upload_token": token} if token is not None else {"upload_token__isnull": True}
    if stalled_before is not None:
        where["upload_deadline__lte"] = stalled_before
    killed = states.transition(
        image_id,
        from_statuses,
        Image.KILLED,
        where=where,
        status_reason=reason[:1024],
        upload_token=None,
        upload_deadline=None,
    )
    image = Image.objects.filter(pk=image_id).only("store").first()
    if token is not None and image is not None and image.store:
        store = get_store(image.store)
        if store.writable and not _holds(image_id, store, token):
            transaction.on_commit(lambda: store.discard_upload(image_id, token))
    return killed


def _fail(actor, image, token, error, *, audit):
    error = _as_service_error(error)
    with transaction.atomic():
        kill_upload(image.pk, token, f"{error.code}: {error.message}")
    if audit:
        _audit_failure(actor, "images.image.upload", image, error)
    return error


def _fill(actor, image, token, store, open_source, *, keep_at=None, on_progress=None):
    """Stream a source into the image (already `saving` with `token`) and make it active."""
    room, too_large = storage_headroom(image.owner, actor.principal)
    source = writer = None
    keepalive = _KeepAlive(image.pk, token)

    def on_chunk(size):
        keepalive()
        if on_progress is not None:
            on_progress(size, source.length)

    try:
        source = open_source()
        if room is not None and source.length is not None and source.length > room:
            raise too_large(source.length)
        writer = store.writer(image.pk, token)
        received = ingest.receive(
            source.read,
            writer,
            image.disk_format,
            expected_size=source.length,
            max_bytes=room,
            too_large=too_large,
            on_chunk=on_chunk,
        )
    except Exception as error:
        if writer is not None:
            writer.abort()
        raise _fail(actor, image, token, error, audit=True) from error
    finally:
        if source is not None:
            source.close()
    try:
        return _activate(actor, image, token, received, writer, store, keep_at)
    except Exception as error:
        writer.abort()
        raise _fail(actor, image, token, error, audit=False) from error


def _activate(actor, image, token, received, writer, store, keep_at):
    action = "images.image.upload"
    with audited(actor, action, target=image.target(), obj=image) as op:
        current = locked(image)
        if current.status != Image.SAVING or current.upload_token != token:
            raise UploadAborted(f"Image {image} is {current.status}: this upload no longer owns it.")
        quotas.claim(
            current.owner, {STORAGE: gib_rounded_up(received.size_bytes)}, current, reader=actor.principal
        )
        if keep_at is None:
            store_name, location = store.name, writer.commit()
        else:
            writer.abort()
            store_name, location = keep_at
        states.transition(
            image.pk,
            Image.SAVING,
            Image.ACTIVE,
            where={"upload_token": token},
            size_bytes=received.size_bytes,
            virtual_size_bytes=received.verdict.virtual_size_bytes,
            sha256=received.sha256,
            store=store_name,
            location=location,
            activated_at=timezone.now(),
            upload_token=None,
            upload_deadline=None,
            status_reason="",
        )
        usage.record_stored(current, received.size_bytes)
        op.details = {"size_bytes": received.size_bytes, "sha256": received.sha256, "store": store_name}
    image.refresh_from_db()
    return image


def upload(actor, image, read, length):
    """Store a request body of `length` bytes as the image's data (PUT /images/{id}/file)."""
    require(actor, "images.image.upload", image.target(), f"You may not upload data to image {image}.")
    room, too_large = storage_headroom(image.owner, actor.principal)
    if room is not None and length > room:
        error = too_large(length)
        _audit_failure(actor, "images.image.upload", image, error)
        raise error
    store = default_store()
    token = uuid.uuid4()
    _begin(image, token, Image.UPLOAD, store)
    return _fill(actor, image, token, store, lambda: _Body(read, length))


def store_file(actor, image, path):
    """Copy a local file into a queued image (manage.py importimage PATH, snapshots)."""
    require(actor, "images.image.upload", image.target(), f"You may not upload data to image {image}.")
    store = default_store()
    token = uuid.uuid4()
    _begin(image, token, Image.FILE, store)

    def open_file():
        handle = open(path, "rb")  # noqa: SIM115  (closed by _Body.close)
        return _Body(handle.read, os.fstat(handle.fileno()).st_size, handle.close)

    return _fill(actor, image, token, store, open_file)


def start_import(actor, image, url, *, copy=True):
    """Queue a controller job that fetches `url` into the image (copy) or registers it (admins)."""
    action = "images.image.import" if copy else "images.image.register_location"
    target = image.target() if copy else PLATFORM
    with audited(actor, action, target=image.target(), obj=image) as op:
        require(actor, action, target, f"You may not {'import into' if copy else 'register'} image {image}.")
        parts, _port = remote.check_url(url)
        current = locked(image)
        if current.status != Image.QUEUED:
            raise Conflict(f"Image {image} is {current.status}, not queued.", code="image_not_queued")
        running = Job.objects.filter(
            kind=IMPORT_JOB, object_id=str(image.pk), state__in=(Job.PENDING, Job.RUNNING)
        )
        if running.exists():
            raise Conflict(f"Image {image} already has an import running.", code="import_in_progress")
        job = create_job(
            IMPORT_JOB,
            action=action,
            payload={"image_id": str(image.pk), "url": url, "copy": copy},
            target=image.target(),
            obj=image,
            actor=actor,
            deadline_s=settings.CLOUDMGR_IMAGE_IMPORT_DEADLINE_SECONDS,
        )
        op.details = {"host": parts.hostname, "job_id": str(job.pk), "copy": copy}
    return job


def create_and_import(actor, *, url, copy=True, **fields):
    """Create an image and queue its import in one transaction: both exist, or neither."""
    remote.check_url(url)
    with transaction.atomic():
        image = records.create_image(actor, **fields)
        return image, start_import(actor, image, url, copy=copy)


def run_import(job, on_progress):
    """The import job's work: fetch through the SSRF guard, then as any other upload."""
    image = Image.objects.select_related("owner__domain").get(pk=job.payload["image_id"])
    copy = job.payload["copy"]
    url = job.payload["url"]
    # A registered location is inspected and hashed from a scratch copy that is dropped after.
    store = default_store() if copy else get_store(FilesystemStore.name)
    _begin(image, job.pk, Image.IMPORT if copy else Image.LOCATION, store)
    return _fill(
        _job_actor(job),
        image,
        job.pk,
        store,
        lambda: remote.open_url(url),
        keep_at=None if copy else ("http", url),
        on_progress=on_progress,
    )


def _job_actor(job):
    """Who asked for the job, for the audit trail (their permission was checked when it was queued)."""
    user = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    if user is None:
        return Actor.system("job")
    return Actor(Principal(user), "", "job")


def settle_import(job):
    """The import job failed (its deadline passed or its handler failed): kill the image it was filling."""
    reason = f"{job.error_code}: {job.error_message}"
    image_id = job.payload["image_id"]
    kill_upload(image_id, job.pk, reason) or kill_upload(
        image_id, None, reason, from_statuses=(Image.QUEUED,)
    )


def check_readable(actor, image):
    """Refuse reading data that is not there or on hold; `image` comes from a scoped selector."""
    if image.status != Image.ACTIVE:
        raise Conflict(f"Image {image} is {image.status}: it has no readable data.", code="image_not_active")
    if image.deactivated and not actor.can("images.image.deactivate", image.admin_target()):
        raise PermissionDenied(f"Image {image} is deactivated.", code="image_deactivated")


def open_data(actor, image, start=0, length=None):
    """An iterator over the image's bytes [start, start+length)."""
    check_readable(actor, image)
    store = get_store(image.store)
    try:
        chunks = store.open_range(image.location, start, length)
    except StoreError as error:
        raise StoreUnavailable(f"The image data cannot be read: {error}.") from error
    if store.verify_reads:
        return _verified(chunks, image, start, length)
    return chunks


def _verified(chunks, image, start, length):
    """Pass chunks on; break the stream if the bytes differ from what was registered."""
    whole = start == 0 and length in (None, image.size_bytes)
    expected = image.size_bytes - start if length is None else length
    digest = hashlib.sha256()
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > expected:
            raise StoreError(f"image {image.pk}: the remote data grew since registration")
        if whole:
            digest.update(chunk)
        yield chunk
    if seen != expected or (whole and digest.hexdigest() != image.sha256):
        raise StoreError(f"image {image.pk}: the remote data changed since registration")
