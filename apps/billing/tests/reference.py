"""What the hourly records must be, worked out from the raw events in plain Python (no billing code).

Used by the tests that break the rollup on purpose (crashes, concurrent runs):
whatever happened, the records must equal this.
"""

from collections import defaultdict
from datetime import timedelta

from apps.billing.models import UsageRecord
from apps.metering.events import LIFECYCLES
from apps.metering.models import UsageEvent

HOUR = timedelta(hours=1)


def expected_seconds(until):
    """{(resource id, hour): seconds} of every metered resource, from the events, up to `until`."""
    timelines = defaultdict(list)
    for event in UsageEvent.objects.filter(occurred_at__lt=until).order_by("occurred_at", "id"):
        timelines[(event.resource_type, event.resource_id)].append(event)
    seconds = defaultdict(int)
    for (resource_type, resource_id), timeline in timelines.items():
        for event, following in zip(timeline, [*timeline[1:], None], strict=True):
            if event.event_type != LIFECYCLES[resource_type].metered:
                continue
            start = event.occurred_at.replace(microsecond=0)
            end = following.occurred_at.replace(microsecond=0) if following else until
            hour = start.replace(minute=0, second=0)
            while hour < end:
                counted = (min(end, hour + HOUR) - max(start, hour)).total_seconds()
                if counted > 0:
                    seconds[(resource_id, hour)] += int(counted)
                hour += HOUR
    return dict(seconds)


def recorded_seconds():
    """{(resource id, hour): seconds} as the rollup recorded them."""
    return {
        (resource_id, hour): seconds
        for resource_id, hour, seconds in UsageRecord.objects.values_list(
            "subject__resource_id", "hour", "seconds"
        )
    }
