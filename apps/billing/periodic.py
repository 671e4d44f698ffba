"""The billing app's periodic work: the billing cycle (services/cycle.py), once per period cluster-wide."""

from apps.jobs.registry import periodic

from .services.cycle import run_cycle


@periodic("billing.rollup_usage")
def roll_up_usage():
    cycle = run_cycle()
    # Quiet when there was nothing to do.
    return str(cycle) if cycle.did_anything else None
