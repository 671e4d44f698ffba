"""Where apps register job handlers and periodic work.

A job handler is `run(job, progress)`; it may also define `settle(job)`, called
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
    run: Callable
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


def job_handler(kind, *, settle=None):
    def register(run):
        _handlers[kind] = JobHandler(kind, run, settle)
        return run

    return register


def handler_for(kind):
    return _handlers.get(kind)


def periodic(name):
    def register(fn):
        if name not in settings.CLOUDMGR_PERIODS:
            raise LookupError(f"add a period for {name!r} to CLOUDMGR_PERIODS")
        _periodic[name] = PeriodicWork(name, fn)
        return fn

    return register


def periodic_work():
    return list(_periodic.values())
