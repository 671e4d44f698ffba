"""Which price applies to an hour of usage, and the priced lines of a period.

Precedence (docs/billing.md): the card of the deepest domain above (or at) the
place where the usage happened wins; within a card, a price for the
instance's offering beats the card's price for every instance; among a card's
prices for the same thing, the one with the latest effective_from not after
the hour applies. A card without a price for the resource type leaves it to the
card above it, up to the default card (no domain). Usage no card prices is not
charged and makes no line.

Prices start on whole hours, so every hourly record falls under one price and
a price change in the middle of a period splits the charge exactly.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from .models import Rate, RateCard
from .money import line_amount

_USAGE = """
SELECT s.project_id, s.domain_path, s.resource_type, s.resource_id, s.resource_name, s.offering_id,
       s.offering_name, s.quantity, width_bucket(r.hour, %(breaks)s::timestamptz[]) AS bucket,
       sum(r.seconds), min(r.hour), max(r.hour)
  FROM billing_usagerecord r
  JOIN billing_usagesubject s ON s.id = r.subject_id
 WHERE r.hour >= %(start)s AND r.hour < %(end)s {only}
 GROUP BY s.id, bucket
"""


class RateBook:
    """Every card and price, loaded once, answering "which rate applies here, then"."""

    def __init__(self):
        self.cards = {card.pk: card for card in RateCard.objects.select_related("domain")}
        self._rates = defaultdict(list)
        for rate in Rate.objects.order_by("-effective_from"):
            self._rates[(rate.card_id, rate.resource_type, rate.offering_id)].append(rate)
        # Deepest first; the default card (no domain) last.
        self._ordered = sorted(
            self.cards.values(), key=lambda c: len(c.domain.path) if c.domain else 0, reverse=True
        )

    def changes_within(self, start, end):
        """The hours strictly inside [start, end) at which some price starts."""
        return sorted(
            {
                r.effective_from
                for rates in self._rates.values()
                for r in rates
                if start < r.effective_from < end
            }
        )

    def rate_for(self, domain_path, resource_type, offering_id, hour):
        for card in self._ordered:
            if card.domain is not None and not domain_path.startswith(card.domain.path):
                continue
            keys = [(card.pk, resource_type, offering_id)] if offering_id else []
            for key in [*keys, (card.pk, resource_type, None)]:
                rate = next((r for r in self._rates.get(key, ()) if r.effective_from <= hour), None)
                if rate is not None:
                    return rate
        return None


@dataclass
class PricedLine:
    project_id: object
    domain_path: str
    currency: str
    resource_type: str
    resource_id: object
    resource_name: str
    offering_name: str
    rate: Rate
    unit_seconds: int
    first_hour: object
    last_hour: object

    @property
    def amount(self):
        return line_amount(self.rate.price, self.unit_seconds)

    @property
    def invoice_key(self):
        return (self.project_id, self.domain_path, self.currency)


def priced_lines(period, project_ids=None):
    """The period's usage as lines, one per (project, place, resource, rate), for the given projects
    (all when None). Usage no rate applies to is left out."""
    book = RateBook()
    breaks = [period.start, *book.changes_within(period.start, period.end)]
    only = "AND s.project_id = ANY(%(projects)s::uuid[])" if project_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            _USAGE.format(only=only),
            {
                "breaks": breaks,
                "start": period.start,
                "end": period.end,
                "projects": [str(p) for p in project_ids or ()],
            },
        )
        rows = cursor.fetchall()
    lines = {}
    rates = {}
    for (
        project_id,
        path,
        rtype,
        rid,
        name,
        offering_id,
        offering,
        quantity,
        bucket,
        seconds,
        first,
        last,
    ) in rows:
        where = (path, rtype, offering_id, breaks[bucket - 1])
        if where not in rates:
            rates[where] = book.rate_for(*where)
        rate = rates[where]
        if rate is None:
            continue
        currency = book.cards[rate.card_id].currency
        key = (project_id, path, currency, rtype, rid, rate.pk)
        line = lines.get(key)
        if line is None:
            lines[key] = PricedLine(
                project_id, path, currency, rtype, rid, name, offering, rate, quantity * seconds, first, last
            )
            continue
        line.unit_seconds += quantity * seconds
        if last > line.last_hour:
            # The name and offering a resource had last are the ones its line shows.
            line.resource_name, line.offering_name, line.last_hour = name, offering, last
        line.first_hour = min(line.first_hour, first)
    return list(lines.values())
