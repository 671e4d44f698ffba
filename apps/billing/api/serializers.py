"""Billing API serializers: usage records, rate cards and rates, invoices and lines, budgets.

Money and prices are strings of decimals (never floats). An invoice names its
place by the id of the domain where the usage happened, not by the whole path.
"""

import uuid

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer
from apps.metering.events import RESOURCE_TYPES

from ..models import MONEY, PRICE, Budget, Invoice, InvoiceLine, Rate, RateCard, UsageRecord
from ..money import CENT, unit_hours
from ..periods import period_of


def domain_id_of(path):
    """The id of the domain a path ends with ("/<root hex>/…/<hex>/")."""
    return str(uuid.UUID(path.rstrip("/").rsplit("/", 1)[-1]))


class UsageRecordSerializer(ModelSerializer):
    resource_type = serializers.CharField(source="subject.resource_type")
    resource_id = serializers.UUIDField(source="subject.resource_id")
    resource_name = serializers.CharField(source="subject.resource_name")
    project_id = serializers.UUIDField(source="subject.project_id")
    offering_id = serializers.UUIDField(source="subject.offering_id", allow_null=True)
    offering_name = serializers.CharField(source="subject.offering_name")
    quantity = serializers.IntegerField(source="subject.quantity")
    unit_hours = serializers.SerializerMethodField()

    class Meta:
        model = UsageRecord
        fields = [
            "hour",
            "seconds",
            "resource_type",
            "resource_id",
            "resource_name",
            "project_id",
            "offering_id",
            "offering_name",
            "quantity",
            "unit_hours",
        ]

    def get_unit_hours(self, record) -> str:
        return str(unit_hours(record.unit_seconds))


class RateSerializer(ModelSerializer):
    price = serializers.DecimalField(**PRICE)

    class Meta:
        model = Rate
        fields = [
            "id",
            "resource_type",
            "offering_id",
            "offering_name",
            "price",
            "effective_from",
            "created_at",
        ]


class RateCreateSerializer(serializers.Serializer):
    resource_type = serializers.ChoiceField(choices=RESOURCE_TYPES)
    offering_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    price = serializers.DecimalField(**PRICE, min_value=0)
    effective_from = serializers.DateTimeField()


class RateCardSerializer(ModelSerializer):
    domain_id = serializers.UUIDField(read_only=True, allow_null=True)
    rates = RateSerializer(many=True, read_only=True)

    class Meta:
        model = RateCard
        fields = ["id", "name", "domain_id", "currency", "created_at", "rates"]


class RateCardCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    currency = serializers.CharField(max_length=3)
    domain_id = serializers.UUIDField(required=False, allow_null=True, default=None)


class RateCardUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)


class InvoiceLineSerializer(ModelSerializer):
    unit_price = serializers.DecimalField(**PRICE, allow_null=True)
    amount = serializers.DecimalField(**MONEY)
    unit_hours = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceLine
        fields = [
            "description",
            "resource_type",
            "resource_id",
            "resource_name",
            "offering_name",
            "rate_id",
            "unit_price",
            "unit_seconds",
            "unit_hours",
            "amount",
            "first_hour",
            "last_hour",
        ]

    def get_unit_hours(self, line) -> str:
        return str(unit_hours(line.unit_seconds))


class InvoiceSerializer(ModelSerializer):
    total = serializers.DecimalField(**MONEY)
    period = serializers.SerializerMethodField()
    domain_id = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "number",
            "state",
            "project_id",
            "project_name",
            "domain_id",
            "period",
            "period_start",
            "period_end",
            "currency",
            "total",
            "credited_invoice",
            "reason",
            "created_at",
            "updated_at",
            "finalized_at",
        ]

    def get_period(self, invoice) -> str:
        return period_of(invoice.period_start).label

    def get_domain_id(self, invoice) -> str:
        return domain_id_of(invoice.domain_path)


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines"]


class CreditNoteCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=0)
    reason = serializers.CharField(max_length=255)


class DomainTotalSerializer(serializers.Serializer):
    domain_id = serializers.UUIDField()
    domain_name = serializers.CharField()
    currency = serializers.CharField()
    finalized_total = serializers.DecimalField(**MONEY)
    draft_total = serializers.DecimalField(**MONEY)
    projects = serializers.IntegerField()


class BudgetSerializer(ModelSerializer):
    amount = serializers.DecimalField(**MONEY)
    spend = serializers.SerializerMethodField()
    notices = serializers.SerializerMethodField()

    class Meta:
        model = Budget
        fields = [
            "id",
            "project_id",
            "domain_id",
            "amount",
            "currency",
            "notify_emails",
            "spend",
            "notices",
            "created_at",
            "updated_at",
        ]

    def get_spend(self, budget) -> str | None:
        spend = getattr(budget, "project_spend" if budget.project_id else "domain_spend", None)
        return None if spend is None else str(spend.quantize(CENT))

    def get_notices(self, budget) -> list:
        return [
            {"period": period_of(n.period_start).label, "threshold": n.threshold, "sent_at": n.sent_at}
            for n in budget.notices.all()
        ]


class BudgetCreateSerializer(serializers.Serializer):
    project_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    domain_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    amount = serializers.DecimalField(**MONEY, min_value=0)
    currency = serializers.CharField(max_length=3)
    notify_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=10)


class BudgetUpdateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=0, required=False)
    notify_emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=10)
