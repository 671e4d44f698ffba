"""Two real controllers on one database and one shared store: the database decides every race."""

import threading
from functools import partial

import pytest

from apps.audit.models import AuditEvent
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.identity.tests.factories import PASSWORD
from apps.images.models import Image
from apps.images.services import records
from apps.quotas import services as quotas

from .factories import active_image, queued_image
from .test_over_http import upload

pytestmark = pytest.mark.processes
SYSTEM = Actor.system("test")


@pytest.fixture
def controllers(start_controller, tmp_path):
    environment = {
        "CLOUDMGR_IMAGE_STORE_DIR": str(tmp_path / "shared-store"),
        "CLOUDMGR_PERIOD_PURGE_IMAGES": "1",
    }
    return start_controller("a", environment=environment), start_controller("b", environment=environment)


def signed_in(controllers, member):
    """(controller, token of the member on their project) for each controller."""
    project_id = str(member.assignments.get().project_id)
    return [(c, c.login(member.username, PASSWORD, project_id=project_id)) for c in controllers]


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_upload_sent_to_both_controllers_is_stored_once(controllers, member, project):
    image = queued_image(project)
    body = b"raw image bytes " * 4096

    results = at_once(
        *(
            partial(upload, c.url, token, image.pk, [body], len(body))
            for c, token in signed_in(controllers, member)
        )
    )

    assert sorted(status for status, _ in results) == [200, 409]
    assert b"image_not_queued" in next(reply for status, reply in results if status == 409)
    image.refresh_from_db()
    assert (image.status, image.size_bytes) == (Image.ACTIVE, len(body))


def test_the_last_image_slot_of_a_quota_goes_to_one_controller_only(controllers, member, project):
    quotas.set_limit(SYSTEM, project, "images", 1)
    body = {"name": "contested", "disk_format": "raw"}

    results = at_once(
        *(
            partial(c.request, "POST", "/api/v1/images/", body, token=token)
            for c, token in signed_in(controllers, member)
        )
    )

    assert sorted(status for status, _ in results) == [201, 409]
    assert Image.objects.filter(owner=project).count() == 1


def test_a_deleted_image_is_purged_once_by_the_controllers_periodic_work(controllers, project, settings):
    settings.CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS = 0
    image = records.delete_image(SYSTEM, active_image(project))

    wait_until(lambda: Image.objects.get(pk=image.pk).status == Image.DELETED, what="the purge")
    wait_until(lambda: Image.objects.get(pk=image.pk).location == "", what="the data to be removed")

    purges = AuditEvent.objects.filter(action="images.image.purge", object_id=str(image.pk))
    assert [event.outcome for event in purges] == [AuditEvent.SUCCESS]
