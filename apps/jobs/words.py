"""What pages call each kind of job ("Launch", not compute.instance.spawn), and what they say while one runs.

Apps describe their kinds from AppConfig.ready():

    describe_job_kind("compute.instance.spawn", "Launch")
    describe_job_kind("compute.instance.reboot", "Reboot", while_running=reboot_hint)

`while_running(job)` returns a sentence about a job still under way (when a
graceful reboot turns into a forced one), or "". A kind nobody described is
called by the last part of its name ("compute.prefetch_image": "Prefetch image").
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class KindWords:
    title: str
    while_running: Callable | None = None


_kinds = {}


def describe_job_kind(kind, title, *, while_running=None):
    _kinds[kind] = KindWords(title, while_running)


def title_of(kind):
    words = _kinds.get(kind)
    if words is not None:
        return words.title
    return kind.rsplit(".", 1)[-1].replace("_", " ").capitalize()


def hint_for(job):
    """A sentence about the unfinished `job`, or ""."""
    words = _kinds.get(job.kind)
    if job.finished or words is None or words.while_running is None:
        return ""
    return words.while_running(job)
