"""Billing periods: a calendar month by default (or an ISO week, or a day), always in UTC.

A period is [start, end); its label names it in URLs and commands: "2026-11",
"2026-W47" or "2026-11-15".
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings

from apps.core.errors import ValidationFailed

# Periods a label may name (the last one ends inside what datetime can hold).
FIRST_YEAR, LAST_YEAR = 1970, 9998


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str

    def __contains__(self, moment):
        return self.start <= moment < self.end

    def next(self):
        return period_of(self.end)

    def previous(self):
        return period_of(self.start - timedelta(microseconds=1))


def whole_hour(moment):
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _midnight(day):
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _month(day):
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Period(_midnight(start), _midnight(end), f"{start:%Y-%m}")


def _week(day):
    start = day - timedelta(days=day.weekday())
    year, week, _ = start.isocalendar()
    return Period(_midnight(start), _midnight(start + timedelta(days=7)), f"{year}-W{week:02d}")


def _day(day):
    return Period(_midnight(day), _midnight(day + timedelta(days=1)), f"{day:%Y-%m-%d}")


_KINDS = {"month": (_month, "%Y-%m"), "week": (_week, "%G-W%V-%u"), "day": (_day, "%Y-%m-%d")}


def period_of(moment):
    """The billing period that contains `moment`."""
    build, _ = _KINDS[settings.CLOUDMGR_BILLING_PERIOD]
    return build(moment.astimezone(UTC).date())


def period_named(label):
    """The billing period a label names, or ValidationFailed (400 bad_period)."""
    build, pattern = _KINDS[settings.CLOUDMGR_BILLING_PERIOD]
    text = f"{label}-1" if settings.CLOUDMGR_BILLING_PERIOD == "week" else label
    try:
        day = datetime.strptime(str(text), pattern).date()
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValueError(f"year {day.year} is out of range")
    except ValueError as error:
        example = build(date(2026, 11, 16)).label
        raise ValidationFailed(
            f"{label!r} names no {settings.CLOUDMGR_BILLING_PERIOD} from {FIRST_YEAR} to {LAST_YEAR}:"
            f" write it like {example}.",
            code="bad_period",
        ) from error
    period = build(day)
    if period.label != str(label):
        raise ValidationFailed(f"{label!r} is not written like {period.label}.", code="bad_period")
    return period
