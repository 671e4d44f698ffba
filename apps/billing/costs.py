"""A project's cost to date, day by day and per resource type, for the dashboard's chart.

Priced as the drafts are (pricing.RateBook: the same card, price and hour), from
the hourly usage the principal may see. Each day's figure per resource type
is summed exactly and rounded once, to the cent; an invoice rounds each of its
lines instead, so the days may differ from it by a few cents: the invoice
says what is owed, the chart where it came from.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Sum

from .money import exact_amount, to_cent
from .pricing import RateBook
from .selectors import usage_for


@dataclass
class DailyCosts:
    """Days of a period (up to the last one with usage counted) and, per currency and resource type,
    the cost of each day."""

    days: list
    by_currency: dict = field(default_factory=dict)

    def series(self, currency):
        """[(resource type, [amount per day])] in that currency, the most costly first."""
        types = self.by_currency.get(currency, {})
        return sorted(types.items(), key=lambda item: -sum(item[1]))


def daily_costs(principal, project, period, counted_until):
    """The project's usage in `period` before `counted_until` (the rollup's watermark), priced per day."""
    end = min(period.end, counted_until) if counted_until else period.start
    days = []
    day = period.start
    while day < end:
        days.append(day.date())
        day += timedelta(days=1)
    hours = (
        usage_for(principal)
        .filter(subject__project_id=project.pk, hour__gte=period.start, hour__lt=end)
        .values("hour", "subject__domain_path", "subject__resource_type", "subject__offering_id")
        .annotate(unit_seconds=Sum(F("seconds") * F("subject__quantity")))
        .order_by()
    )
    book = RateBook()
    exact = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for row in hours:
        resource_type = row["subject__resource_type"]
        rate = book.rate_for(
            row["subject__domain_path"], resource_type, row["subject__offering_id"], row["hour"]
        )
        if rate is None:
            continue
        currency = book.cards[rate.card_id].currency
        exact[currency][resource_type][row["hour"].date()] += exact_amount(rate.price, row["unit_seconds"])
    costs = DailyCosts(days)
    for currency, types in exact.items():
        costs.by_currency[currency] = {
            resource_type: [to_cent(per_day.get(d, Decimal(0))) for d in days]
            for resource_type, per_day in types.items()
        }
    return costs
