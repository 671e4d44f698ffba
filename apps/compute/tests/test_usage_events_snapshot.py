"""An instance's snapshot is metered as a snapshot, from the host's upload of its data, for the instance's
project; the image it was launched from stays an image."""

import pytest

from agent.tests.builders import qcow2_bytes
from apps.metering import events as e
from apps.metering.models import UsageEvent

from .test_agent_wire import agent  # noqa: F401  (a fixture)
from .test_snapshot import put_data, running, start_snapshot  # noqa: F401  (running is a fixture)

pytestmark = pytest.mark.django_db


def test_the_snapshot_of_an_instance_is_metered_as_a_snapshot_once_its_data_arrives(
    agent,  # noqa: F811
    api,
    project,
    running,  # noqa: F811
    image,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    snapshot, _ = start_snapshot(api, running, django_capture_on_commit_callbacks)
    assert snapshot.source_instance_id == running.pk
    assert not UsageEvent.objects.filter(resource_id=snapshot.pk).exists()
    body = qcow2_bytes(tmp_path)
    assert put_data(agent, snapshot, body).status_code == 200
    event = UsageEvent.objects.get(resource_id=snapshot.pk)
    assert (event.resource_type, event.event_type, event.project_id, event.size_bytes) == (
        e.SNAPSHOT,
        e.STORED,
        project.pk,
        len(body),
    )
    assert UsageEvent.objects.get(resource_id=image.pk).resource_type == e.IMAGE


def test_a_tenant_sees_no_instance_id_on_a_snapshot(api, running, django_capture_on_commit_callbacks):  # noqa: F811
    snapshot, _ = start_snapshot(api, running, django_capture_on_commit_callbacks)
    shown = api.get(f"/api/v1/images/{snapshot.pk}/").json()
    assert "source_instance_id" not in shown
    assert str(running.pk) not in str(shown)
