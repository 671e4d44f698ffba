"""A project's cost per day for the dashboard's chart: priced hour by hour as the drafts are, its own usage
only, up to the hour usage is counted until."""

import uuid
from decimal import Decimal

from apps.billing.costs import daily_costs
from apps.billing.periods import period_of
from apps.billing.rollup import roll_up
from apps.core.policy import Principal
from apps.identity.tests.factories import ProjectFactory
from apps.metering import events as e

from . import usage as u
from .prices import card, price
from .usage import at


def test_a_price_change_inside_a_day_splits_that_days_cost_at_its_hour(project, member, small):
    default = card()
    price(default, e.INSTANCE, "0.1000")
    price(default, e.INSTANCE, "0.2000", start="2026-11-02 06:00")
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), ProjectFactory(), small)
    roll_up(at("2026-11-03 00:00"))

    costs = daily_costs(Principal(member), project, period_of(at("2026-11-01 00:00")), at("2026-11-03 00:00"))

    assert costs.days == [at("2026-11-01 00:00").date(), at("2026-11-02 00:00").date()]
    # The 2nd: 6 h at 0.10 and 18 h at 0.20.
    assert costs.series("EUR") == [("instance", [Decimal("2.40"), Decimal("4.20")])]


def test_usage_no_price_applies_to_costs_nothing_and_a_project_without_usage_has_no_series(
    project, member, small
):
    card()
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)
    roll_up(at("2026-11-02 00:00"))
    costs = daily_costs(Principal(member), project, period_of(at("2026-11-01 00:00")), at("2026-11-02 00:00"))
    assert (costs.days, costs.by_currency) == ([at("2026-11-01 00:00").date()], {})
