"""A job's result is shown only to those who may perform the job's action.

A console log's text is the result of `compute.instance.console_log`, a `use`
action: a project reader may list the project's jobs but must not read the
console through them, neither in the API nor on the console page.
"""

import pytest
from django.test import Client
from django.urls import reverse

from apps.compute.services.lifecycle import request_console_log
from apps.conftest import login
from apps.core.actor import Actor
from apps.core.policy import Principal
from apps.jobs import services as jobs
from apps.jobs.models import Job

from .factories import InstanceFactory

SECRET_TEXT = "root password is hunter2"


@pytest.fixture
def console_job(member, project):
    instance = InstanceFactory(project=project)
    job = request_console_log(Actor(Principal(member)), instance, 4096)
    # As the host's "running" and "succeeded" reports leave it.
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING)
    jobs.succeed(job.pk, {"text": SECRET_TEXT, "size_bytes": len(SECRET_TEXT), "truncated": False})
    return job


def console_page(user, job, project):
    client = Client()
    client.force_login(user)
    page = reverse("compute:instance-console", args=[project.pk, job.object_id])
    return client.get(f"{page}?job={job.pk}")


def test_a_project_reader_lists_console_jobs_without_their_text(reader, project, console_job):
    api = login(reader, project_id=project.pk)

    listed = api.get("/api/v1/jobs/?kind=compute.instance.console_log")
    shown = api.get(f"/api/v1/jobs/{console_job.pk}/")

    assert [j["id"] for j in listed.data["results"]] == [str(console_job.pk)]
    assert listed.data["results"][0]["result"] is None
    assert (shown.status_code, shown.data["state"], shown.data["result"]) == (200, "succeeded", None)
    assert SECRET_TEXT not in listed.content.decode() + shown.content.decode()


def test_a_project_member_who_may_read_the_console_gets_the_text(member, project, console_job):
    api = login(member, project_id=project.pk)

    assert api.get(f"/api/v1/jobs/{console_job.pk}/").data["result"]["text"] == SECRET_TEXT
    assert SECRET_TEXT in console_page(member, console_job, project).content.decode()


def test_the_console_page_of_an_earlier_job_is_a_404_to_a_project_reader(reader, project, console_job):
    response = console_page(reader, console_job, project)

    assert response.status_code == 404
    assert SECRET_TEXT not in response.content.decode()
