"""One billing cycle: roll usage up, draft the invoices it (or a change of prices) changed, send the
budget notices due.

The periodic work `billing.rollup_usage` (once per period across all
controllers) and `manage.py rollupusage` run the same cycle; each step is safe
while another process runs it too: the rollup and the drafts take their own
locks, and a budget notice is claimed by a unique row.
"""

from dataclasses import dataclass

from ..rollup import roll_up
from .budgets import check_budgets
from .invoices import refresh_for_new_prices, refresh_touched


@dataclass
class Cycle:
    rollup: object
    drafted: int
    notices: int

    def __str__(self):
        return f"{self.rollup}; {self.drafted} draft invoice(s) written; {self.notices} budget notice(s) sent"

    @property
    def did_anything(self):
        return bool(self.rollup.events or self.rollup.touched or self.drafted or self.notices)


def run_periodic_cycle():
    """The periodic work `billing.rollup_usage`: quiet when there was nothing to do."""
    cycle = run_cycle()
    return str(cycle) if cycle.did_anything else None


def run_cycle(until=None):
    outcome = roll_up(until)
    drafted = refresh_for_new_prices(outcome, until)
    if drafted is None:
        drafted = refresh_touched(outcome)
    return Cycle(outcome, drafted, check_budgets(until))
