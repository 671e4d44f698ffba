"""Billing periods: months by default, ISO weeks or days when configured, named by labels."""

import pytest

from apps.billing.periods import period_named, period_of
from apps.core.errors import ValidationFailed

from .usage import at


@pytest.mark.parametrize(
    ("kind", "moment", "label", "start", "end"),
    [
        ("month", "2026-12-31 23:59:59", "2026-12", "2026-12-01 00:00", "2027-01-01 00:00"),
        ("month", "2028-02-29 12:00:00", "2028-02", "2028-02-01 00:00", "2028-03-01 00:00"),
        ("week", "2027-01-01 10:00:00", "2026-W53", "2026-12-28 00:00", "2027-01-04 00:00"),
        ("day", "2026-11-15 00:00:00", "2026-11-15", "2026-11-15 00:00", "2026-11-16 00:00"),
    ],
)
def test_a_moment_falls_in_the_period_its_label_names(settings, kind, moment, label, start, end):
    settings.CLOUDMGR_BILLING_PERIOD = kind
    period = period_of(at(moment))
    assert (period.label, period.start, period.end) == (label, at(start), at(end))
    assert period_named(label) == period
    assert period.next().start == period.end
    assert period.previous().end == period.start


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("month", "2026-13"),
        ("month", "2026-1"),
        ("month", "9999-12"),
        ("month", "0001-01"),
        ("month", "2026-11-01"),
        ("week", "2026-W54"),
        ("week", "2026-47"),
        ("day", "2026-02-30"),
    ],
)
def test_a_label_that_names_no_period_is_a_clear_refusal(settings, kind, label):
    settings.CLOUDMGR_BILLING_PERIOD = kind
    with pytest.raises(ValidationFailed) as refusal:
        period_named(label)
    assert refusal.value.code == "bad_period"
