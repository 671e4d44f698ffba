"""What pages call compute's jobs, and what they say while a graceful stop or reboot waits for its guest."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.jobs.words import describe_job_kind

from .prefetch import PREFETCH_JOB
from .services.lifecycle import job_kind

TITLES = {
    "spawn": "Launch",
    "start": "Start",
    "stop": "Stop",
    "reboot": "Reboot",
    "reboot_hard": "Hard reboot",
    "pause": "Pause",
    "unpause": "Unpause",
    "suspend": "Suspend",
    "resume": "Resume",
    "rebuild": "Rebuild",
    "snapshot": "Snapshot",
    "delete": "Delete",
    "console_log": "Console log",
}


def _grace_seconds(job):
    return job.payload.get("graceful_timeout_seconds", settings.CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS)


def _forced_at(job):
    """When the host stops waiting for the guest: the grace period from when the host took the task."""
    began = job.started_at or job.created_at
    return timezone.localtime(began + timedelta(seconds=_grace_seconds(job))).strftime("%H:%M:%S %Z")


def stop_hint(job):
    if not _grace_seconds(job):
        return ""
    return f"The guest is asked to shut down; if it has not by {_forced_at(job)}, it is powered off."


def reboot_hint(job):
    if not _grace_seconds(job):
        return ""
    return (
        "The guest is asked to restart; if it has not shut down by "
        f"{_forced_at(job)}, it is powered off and started again."
    )


HINTS = {"stop": stop_hint, "reboot": reboot_hint}


def register():
    for action, title in TITLES.items():
        describe_job_kind(job_kind(action), title, while_running=HINTS.get(action))
    describe_job_kind(PREFETCH_JOB, "Image prefetch")
