"""Read queries of monitoring: alerts are the platform's, seen by those who may read them there."""

from django.db.models import F

from apps.core.tree import PLATFORM

from .models import Alert
from .policy_actions import ALERT_READ


def alerts_for(principal):
    if not principal.can(ALERT_READ, PLATFORM):
        return Alert.objects.none()
    return Alert.objects.order_by(F("resolved_at").desc(nulls_first=True), "-opened_at")
