"""The host state machine: its states, the allowed moves, and the compare-and-set that makes a move.

- enrolling: added by an admin, no key registered yet;
- down: enrolled (or re-enrolled) but not heard from yet, or silent for longer
  than CLOUDMGR_HOST_DOWN_AFTER_SECONDS; its instances keep their claims, as
  their guests may still run;
- up: heartbeats arrive;
- fenced: an operator confirmed that the down host is off. Its instances may be
  started elsewhere; heartbeats do not bring it back (its agent destroys its
  guests instead of resuming them), only returning it to service does, to down.

Only `up` hosts that are enabled and not in maintenance get new instances.
"""

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.core.errors import Conflict

from .models import Host

ENROLLING, UP, DOWN, FENCED = Host.ENROLLING, Host.UP, Host.DOWN, Host.FENCED

# event -> (states it may happen in, state it leads to)
TRANSITIONS = {
    # A new key must be heard from before the host gets work, so enrolling always leads to down.
    "enroll": (frozenset({ENROLLING, DOWN, UP}), DOWN),
    "heartbeat": (frozenset({DOWN, UP}), UP),
    "miss_heartbeats": (frozenset({UP}), DOWN),
    "fence": (frozenset({DOWN}), FENCED),
    "return_to_service": (frozenset({FENCED}), DOWN),
}


def allowed(event, state):
    return state in TRANSITIONS[event][0]


def move(queryset, event, **changes):
    """Apply `event` to the hosts of `queryset` in a state that allows it; returns how many moved.

    One UPDATE … WHERE state IN (…): a host whose state changed meanwhile is left alone.
    """
    sources, destination = TRANSITIONS[event]
    return queryset.filter(state__in=sources).update(
        state=destination,
        # Only a real change of state moves the timestamp, not each heartbeat.
        state_changed_at=Case(
            When(~Q(state=destination), then=Value(timezone.now())), default=F("state_changed_at")
        ),
        **changes,
    )


def move_returning(queryset, event, **changes):
    """Like move(), returning the ids of the hosts that moved (each row locked while it moves)."""
    sources, _ = TRANSITIONS[event]
    ids = list(
        queryset.filter(state__in=sources).select_for_update(skip_locked=True).values_list("pk", flat=True)
    )
    if ids:
        move(Host.objects.filter(pk__in=ids), event, **changes)
    return ids


def move_one(host, event, **changes):
    """Move one host, or raise Conflict naming the state it is in."""
    if move(Host.objects.filter(pk=host.pk), event, **changes):
        return
    current = Host.objects.filter(pk=host.pk).values_list("state", flat=True).first()
    raise Conflict(
        f"Host {host.name} is {current}: '{event}' is not allowed.",
        code="host_invalid_state",
        details={"state": current, "event": event},
    )
