"""Where apps register their kinds of job and their periodic work, from their AppConfig.ready().

A job kind has `run(job, progress)` when the controller's workers carry it out
(a job of the controller queue), and none when it runs elsewhere (a host's
agent, apps.infrastructure.hostwork). Either may define `settle(job)`, called
exactly once, inside the transaction that marks the job failed, to give back
what the job held (quota, capacity, addresses).

Periodic work is `fn()` run every `settings.CLOUDMGR_PERIODS[name]` seconds,
once across all controllers.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class JobHandler:
    kind: str
    run: Callable | None
    settle: Callable | None = None


@dataclass(frozen=True)
class PeriodicWork:
    name: str
    fn: Callable

    @property
    def period_seconds(self):
        return settings.CLOUDMGR_PERIODS[self.name]


_handlers = {}
_periodic = {}


def register_job_kind(kind, *, run=None, settle=None):
    _handlers[kind] = JobHandler(kind, run, settle)


def job_handler(kind, *, settle=None):
    """A decorator: `run` carries out jobs of `kind` in the controller."""

    def register(run):
        register_job_kind(kind, run=run, settle=settle)
        return run

    return register


def handler_for(kind):
    return _handlers.get(kind)


def register_periodic(name, fn):
    if name not in settings.CLOUDMGR_PERIODS:
        raise LookupError(f"add a period for {name!r} to CLOUDMGR_PERIODS")
    _periodic[name] = PeriodicWork(name, fn)


def periodic(name):
    """A decorator: `fn` is periodic work `name`."""

    def register(fn):
        register_periodic(name, fn)
        return fn

    return register


def periodic_work():
    return list(_periodic.values())
