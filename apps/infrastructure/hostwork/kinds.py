"""Declaring a kind of host work, and the registry of kinds, looked up by their exact job kind.

A kind subclasses HostWork and is registered from its app's AppConfig.ready():

    hostwork.kinds.register(ImagePrefetch())

Its job then runs its `steps` in order, each on a host: the first on the host
the work is started on (dispatch.start), each later one on the host its
`host` names, once the step before it succeeded.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, Case, Value, When

from apps.core.errors import Conflict
from apps.jobs.registry import register_job_kind


@dataclass(frozen=True)
class Step:
    """One task on one host.

    `payload(job, subject)` builds the task's protocol message; `host(job, subject)`
    is the Host the step goes to (for the first step, the host it was started on).
    """

    task: str
    payload: Callable
    host: Callable


class HostWork:
    """A kind of host work. Subclasses set `kind` and `steps`, and override what they need."""

    kind = ""
    steps = ()
    # The setting holding the job's deadline, in seconds from its creation.
    deadline_setting = "CLOUDMGR_JOB_DEFAULT_DEADLINE_SECONDS"

    def deadline_seconds(self):
        return getattr(settings, self.deadline_setting)

    def subject(self, job):
        """What the steps' payloads and hosts are built from, read when a step is sent; None: not sendable."""
        raise NotImplementedError

    def report_checks(self, host_name):
        """{name: boolean expression over jobs.Job} read with the job of a report, found as `job.<name>`."""
        return {}

    def check_report(self, job, host, report):
        """Raise refused(...) when the report is about something that is not the host's."""

    def check_result(self, job, result):
        """Raise refused(...) when a success's result is about another object than the job's."""

    def step_succeeded(self, job, host, result):
        """A step before the last succeeded (job.step is that step), in the transaction advancing the job."""

    def succeeded(self, job, host, result):
        """The last step succeeded; in the transaction that records the job succeeded, once."""

    def settle(self, job):
        """The job failed (a host's failure report or its deadline), once, in that transaction.

        The steps before `job.step` succeeded: settle what they did on their hosts too.
        """


def refused(message):
    """The error for a report about what is not the reporting host's: 409, and nothing changes."""
    return Conflict(message, code="not_this_hosts_task")


_kinds = {}


def register(work):
    _kinds[work.kind] = work
    register_job_kind(work.kind, settle=work.settle)


def work_for(kind):
    """The registered kind named exactly `kind`, or None."""
    return _kinds.get(kind)


def host_kinds():
    return list(_kinds)


def report_checks(host_name):
    """Every kind's report checks as {name: expression}, each False for jobs of kinds that do not declare it.

    Kinds of one class share their checks, so each class's are built once, for all its kinds.
    """
    classes = {}
    for kind, work in _kinds.items():
        classes.setdefault(type(work).report_checks, (work, []))[1].append(kind)
    cases = {}
    for work, kinds in classes.values():
        for name, condition in work.report_checks(host_name).items():
            cases.setdefault(name, []).append(When(kind__in=kinds, then=condition))
    return {
        name: Case(*whens, default=Value(False), output_field=BooleanField()) for name, whens in cases.items()
    }
