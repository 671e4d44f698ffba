"""What the monitoring API answers: the charts' series and the alerts (the series are read, never written)."""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer

from ..models import Alert
from ..series import WINDOWS


class AlertSerializer(ModelSerializer):
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


class SeriesSerializer(serializers.Serializer):
    """Columnar series: one list of times (Unix seconds), one list of values per series."""

    subject = serializers.DictField(help_text="type, id and size of the instance or host")
    window = serializers.ChoiceField(choices=list(WINDOWS))
    resolution_seconds = serializers.IntegerField()
    source = serializers.CharField(help_text="database, or prometheus")
    timestamps = serializers.ListField(child=serializers.IntegerField())
    series = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField(allow_null=True)),
        help_text="one value per timestamp for each series (null where Prometheus had none)",
    )
