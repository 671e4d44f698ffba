"""The jobs app's periodic work: failing overdue jobs."""

from .registry import periodic
from .services import sweep_overdue


@periodic("jobs.sweep_overdue")
def sweep_overdue_jobs():
    return sweep_overdue()
