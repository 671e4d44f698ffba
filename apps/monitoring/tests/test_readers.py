"""The charts' JSON: an instance's and a host's series over a window, at the window's resolution."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.conftest import login
from apps.core import policy
from apps.identity.tests.factories import UserFactory, grant
from apps.monitoring.rollup import run_rollups

from .samples import instance_sample, store_minutes


@pytest.fixture
def history(host, instance):
    """Two hours of samples, one a minute, rolled up; the clock stays at their end."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=2)
    store_minutes(
        host,
        120,
        lambda minute: ([instance_sample(instance.pk, cpu_millicores=minute)], {}),
        end=end - timedelta(minutes=1),
    )
    with time_machine.travel(end, tick=False):
        run_rollups()
    return start, end


def test_the_last_hour_comes_raw_and_the_last_day_in_five_minute_averages(api, instance, history):
    start, end = history
    with time_machine.travel(end, tick=False):
        hour = api.get(f"/api/v1/metrics/instances/{instance.pk}/")
        day = api.get(f"/api/v1/metrics/instances/{instance.pk}/?window=day")

    assert hour.status_code == 200, hour.content
    assert (hour.data["window"], hour.data["resolution_seconds"], hour.data["source"]) == (
        "hour",
        60,
        "database",
    )
    assert hour.data["subject"] == {"type": "instance", "id": str(instance.pk), "vcpus": 2, "ram_mb": 2048}
    assert len(hour.data["timestamps"]) == 60
    assert hour.data["series"]["cpu_millicores"][-1] == 119
    assert day.data["resolution_seconds"] == 300
    assert day.data["series"]["cpu_millicores"][:2] == [2, 7]
    assert day.data["timestamps"][0] == int(start.timestamp())


def test_a_window_that_is_not_hour_day_or_week_is_a_clear_error(api, instance):
    response = api.get(f"/api/v1/metrics/instances/{instance.pk}/?window=year")

    assert response.status_code == 400
    assert response.data["error"]["code"] == "bad_window"


def test_a_hosts_series_are_for_those_who_may_read_hosts(api, admin_api, host, history):
    assert api.get(f"/api/v1/metrics/hosts/{host.pk}/").status_code == 404
    answer = admin_api.get(f"/api/v1/metrics/hosts/{host.pk}/?window=week")
    assert answer.status_code == 200
    assert answer.data["subject"]["name"] == host.name
    assert answer.data["resolution_seconds"] == 3600


def test_a_project_reader_sees_the_series_of_the_projects_instances(project, instance, history):
    reader = UserFactory(domain=project.domain)
    grant(reader, policy.PROJECT_READER, project)

    response = login(reader).get(f"/api/v1/metrics/instances/{instance.pk}/")

    assert response.status_code == 200
    assert response.data["series"]["cpu_millicores"]
