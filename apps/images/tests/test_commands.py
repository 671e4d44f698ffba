"""manage.py importimage, listimages, purgeimages."""

import io

import pytest
from django.core.management import CommandError, call_command

from apps.images.models import Image
from apps.jobs.models import Job

from . import crafted
from .factories import active_image, pending_delete_image


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def owner_of(project):
    return f"{project.domain.name}:{project.name}"


def test_importimage_stores_a_local_file(project, files):
    disk = crafted.qcow2(files)

    out = run(
        "importimage", str(disk), "--name", "base", "--disk-format", "qcow2", "--project", owner_of(project)
    )

    image = Image.objects.get(name="base")
    assert (image.status, image.owner_id, image.source) == ("active", project.pk, "file")
    assert f"image {image.pk} active {disk.stat().st_size} bytes sha256 {image.sha256}" in out


def test_importimage_of_an_unsafe_file_fails_with_the_reason(project, files):
    disk = crafted.qcow2_with_backing_file(files)

    with pytest.raises(CommandError, match=r"^backing_file: "):
        run(
            "importimage",
            str(disk),
            "--name",
            "bad",
            "--disk-format",
            "qcow2",
            "--project",
            owner_of(project),
        )

    assert Image.objects.get(name="bad").status == Image.KILLED


@pytest.mark.django_db(transaction=True)
def test_importimage_of_a_url_follows_the_job_run_by_a_controller_worker(
    project, files, allowed_mirror, job_worker
):
    disk = crafted.random_raw(files, 2 * 1024 * 1024)

    out = run(
        "importimage",
        f"{allowed_mirror.base_url}/files/{disk.name}",
        "--name",
        "remote",
        "--disk-format",
        "raw",
        "--project",
        owner_of(project),
    )

    image = Image.objects.get(name="remote")
    assert image.status == "active"
    assert f"image {image.pk} active {2 * 1024 * 1024} bytes" in out


def test_importimage_no_wait_queues_the_job(project):
    out = run(
        "importimage",
        "https://images.example.com/disk.img",
        "--name",
        "later",
        "--disk-format",
        "raw",
        "--project",
        owner_of(project),
        "--no-wait",
    )

    job = Job.objects.get()
    assert job.state == Job.PENDING
    assert out.strip().endswith(f"import job {job.pk}")


def test_listimages_shows_images_but_not_deleted_ones_unless_asked(project):
    kept = active_image(project, name="kept")
    gone = pending_delete_image(project, name="gone")
    run("purgeimages", "--all")

    listed = run("listimages")
    with_deleted = run("listimages", "--deleted")

    assert str(kept.pk) in listed
    assert str(gone.pk) not in listed
    assert str(gone.pk) in with_deleted


def test_purgeimages_respects_the_retention_unless_told_otherwise(project, settings):
    settings.CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS = 3600
    first = pending_delete_image(project)
    pending_delete_image(project)

    assert run("purgeimages") == "purged 0 image(s)\n"
    assert run("purgeimages", "--image", str(first.pk)) == f"purged 1 image ({first.pk})\n"
    assert run("purgeimages", "--all") == "purged 1 image(s)\n"
    assert set(Image.objects.values_list("status", flat=True)) == {Image.DELETED}


def test_purgeimages_of_an_unknown_image_is_one_line_and_an_error(db):
    with pytest.raises(CommandError, match=r"^not_found: No such image"):
        run("purgeimages", "--image", "not-an-id")
