"""Choose a host and claim its capacity, inside the caller's transaction.

1. Every filter's SQL condition and every weigher go into one query over the
   hosts, ordered best first, read a page at a time.
2. Each candidate passes the Python checks (if any filter has one), then its
   capacity is claimed with one conditional UPDATE
   (apps.infrastructure.capacity.claim). A claim lost to a concurrent request
   moves on to the next candidate.
3. When no candidate is left, NoValidHost (409). Its message is the same for
   everyone (it is also the audit event's, which tenants read): tenants learn
   nothing of the hosts. With `explain`, for those who may see hosts, its
   details say how many hosts there are and how many each filter removed;
   counting costs a query per filter, so it is done only then, and logged for
   operators either way.
"""

import logging

from django.conf import settings
from django.db.models import ExpressionWrapper, F, FloatField, Max, Min, Value, Window
from django.db.models.functions import Coalesce, NullIf

from apps.core.errors import Conflict
from apps.infrastructure import capacity
from apps.infrastructure.models import Host

from .base import load
from .filters import FILTERS
from .weighers import WEIGHERS

log = logging.getLogger(__name__)

CANDIDATES_PER_PAGE = 16
NO_CAPACITY = "There is no capacity for this request."


class NoValidHost(Conflict):
    code = "no_valid_host"


def configured_filters():
    return load(settings.CLOUDMGR_SCHEDULER_FILTERS, {f.name: f for f in FILTERS}, "filter")


def configured_weighers():
    return load(settings.CLOUDMGR_SCHEDULER_WEIGHERS, {w.name: w for w in WEIGHERS}, "weigher")


def place(request, *, explain=False):
    """Claim capacity for `request` on the best host that passes every filter and return the host.

    `explain`: a refusal's details say why, host counts included (for those who may see hosts).
    """
    active = [f for f in configured_filters() if f.wanted(request)]
    in_python = [f for f in active if f.checks_in_python]
    # The zone rides along: the new instance is answered with its zone's name.
    hosts = Host.objects.select_related("zone")
    candidates = _weighed(_filtered(hosts, active, request), configured_weighers(), request)
    tried, lost = set(), 0
    while True:
        page = list(candidates.exclude(id__in=tried)[:CANDIDATES_PER_PAGE])
        for host in page:
            tried.add(host.pk)
            if not all(f.host_passes(host, request) for f in in_python):
                continue
            if capacity.claim(host.pk, request.consumer_id, request.amounts):
                return host
            lost += 1
        if len(page) < CANDIDATES_PER_PAGE:
            raise _no_valid_host(request, active, lost, explain)


def _filtered(queryset, active, request):
    conditions = [c for c in (f.condition(request) for f in active) if c is not None]
    return queryset.filter(*conditions)


def _weighed(queryset, weighers_, request):
    """Best first. One weigher orders by its own expression, so an index on it can serve the order."""
    if len(weighers_) == 1:
        (weigher,) = weighers_
        value = weigher.expression(request)
        if weigher.multiplier > 0:
            return queryset.order_by(value.desc(), F("id").desc())
        if weigher.multiplier < 0:
            return queryset.order_by(value.asc(), F("id").asc())
    if len(weighers_) <= 1:
        return queryset.order_by("id")
    score = sum(
        _scaled(ExpressionWrapper(w.expression(request), FloatField())) * Value(w.multiplier)
        for w in weighers_
    )
    return queryset.annotate(weight=score).order_by("-weight", "id")


def _scaled(value):
    """The value moved to 0..1 over the candidate hosts (0 for all when they are equal)."""
    low, high = Window(Min(value)), Window(Max(value))
    return Coalesce((value - low) / NullIf(high - low, Value(0.0)), Value(0.0))


def _no_valid_host(request, active, lost, explain):
    hosts = Host.objects.all()
    total = remaining = hosts.count()
    removed = []
    for f in active:
        condition = f.condition(request)
        if condition is not None:
            hosts = hosts.filter(condition)
            left = hosts.count()
            removed.append({"filter": f.name, "removed": remaining - left, "remaining": left})
            remaining = left
    in_python = [f for f in active if f.checks_in_python]
    if in_python:
        failed = dict.fromkeys((f.name for f in in_python), 0)
        for host in hosts.iterator():
            first_failing = next((f.name for f in in_python if not f.host_passes(host, request)), None)
            if first_failing:
                failed[first_failing] += 1
        for name, count in failed.items():
            remaining -= count
            removed.append({"filter": name, "removed": count, "remaining": remaining})
    details = {"hosts": total, "filters": removed, "lost_to_concurrent_claims": lost}
    log.info("no valid host for consumer %s: %s", request.consumer_id, details)
    return NoValidHost(NO_CAPACITY, details=details if explain else {})
