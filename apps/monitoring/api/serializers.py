from rest_framework import serializers

from ..models import Alert


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "subject",
            "subject_name",
            "message",
            "details",
            "opened_at",
            "last_seen_at",
            "resolved_at",
            "notified_at",
        ]
