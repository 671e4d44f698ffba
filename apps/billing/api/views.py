"""Billing API: /usage/, /rate-cards/ (and their rates), /invoices/ (+ CSV, per domain), /budgets/."""

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.filters import FilterSet
from apps.core.api.views import ServiceViewSet
from apps.core.errors import ValidationFailed
from apps.core.scoping import get_or_404
from apps.identity.selectors import domains_for, visible_project

from .. import selectors
from ..exports import invoice_csv
from ..models import Invoice, Rate, UsageRecord
from ..periods import period_named, period_of
from ..services import budgets, invoices, rate_cards
from ..services.budgets import with_spend
from . import serializers as s


class UsageFilter(FilterSet):
    project = django_filters.UUIDFilter(field_name="subject__project_id")
    resource_type = django_filters.CharFilter(field_name="subject__resource_type")
    resource_id = django_filters.UUIDFilter(field_name="subject__resource_id")
    since = django_filters.IsoDateTimeFilter(field_name="hour", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="hour", lookup_expr="lt")

    class Meta:
        model = UsageRecord
        fields = []


class UsageViewSet(mixins.ListModelMixin, ServiceViewSet):
    """Hourly usage records: the seconds of each hour a resource was metered, newest first."""

    serializer_class = s.UsageRecordSerializer
    filterset_class = UsageFilter

    def get_queryset(self):
        return selectors.usage_for(self.principal).order_by("-hour", "subject_id")


class RateCardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.RateCardSerializer
    write_serializer_class = s.RateCardCreateSerializer
    update_serializer_class = s.RateCardUpdateSerializer

    def get_queryset(self):
        return selectors.rate_cards_for(self.principal).prefetch_related("rates")

    def create(self, request):
        data = self.validated()
        domain = None
        if data["domain_id"] is not None:
            domain = get_or_404(domains_for(self.principal), "domain", pk=data["domain_id"])
        card = rate_cards.create_rate_card(
            self.actor, name=data["name"], currency=data["currency"], domain=domain
        )
        return Response(s.RateCardSerializer(card).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        card = rate_cards.rename_rate_card(self.actor, self.get_object(), name=self.validated()["name"])
        return Response(s.RateCardSerializer(card).data)

    def destroy(self, request, pk=None):
        rate_cards.delete_rate_card(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.RateCreateSerializer, responses={200: s.RateSerializer(many=True), 201: s.RateSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def rates(self, request, pk=None):
        card = self.get_object()
        if request.method == "GET":
            return Response(s.RateSerializer(card.rates.all(), many=True).data)
        rate = rate_cards.add_rate(self.actor, card, **self.validated(s.RateCreateSerializer))
        return Response(s.RateSerializer(rate).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"rates/(?P<rate_id>[0-9a-f-]{36})", url_name="rate")
    def withdraw_rate(self, request, pk=None, rate_id=None):
        rate = get_or_404(Rate.objects.select_related("card"), "rate", pk=rate_id, card=self.get_object())
        rate_cards.withdraw_rate(self.actor, rate)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvoiceFilter(FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    period = django_filters.CharFilter(method="in_period")

    class Meta:
        model = Invoice
        fields = ["state", "kind", "currency"]

    def in_period(self, queryset, name, value):
        return queryset.filter(period_start=period_named(value).start)


def _period_of_request(request):
    label = request.query_params.get("period")
    return period_named(label) if label else period_of(timezone.now())


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Invoices and credit notes; a finalized one never changes."""

    serializer_class = s.InvoiceSerializer
    filterset_class = InvoiceFilter

    def get_queryset(self):
        return selectors.invoices_for(self.principal)

    def get_serializer_class(self):
        return s.InvoiceDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def get_object(self):
        return get_or_404(self.get_queryset().prefetch_related("lines"), "invoice", pk=self.kwargs["pk"])

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=True, methods=["get"])
    def csv(self, request, pk=None):
        invoice = self.get_object()
        response = HttpResponse(invoice_csv(invoice), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number or invoice.pk}.csv"'
        return response

    @extend_schema(request=None, responses={200: s.InvoiceDetailSerializer})
    @action(detail=True, methods=["post"])
    def finalize(self, request, pk=None):
        invoice = invoices.finalize_invoice(self.actor, self.get_object())
        return Response(s.InvoiceDetailSerializer(invoice).data)

    @extend_schema(request=s.CreditNoteCreateSerializer, responses={201: s.InvoiceDetailSerializer})
    @action(detail=True, methods=["post"], url_path="credit-notes", url_name="credit-notes")
    def credit_notes(self, request, pk=None):
        data = self.validated(s.CreditNoteCreateSerializer)
        note = invoices.issue_credit_note(self.actor, self.get_object(), **data)
        return Response(s.InvoiceDetailSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("period", str, description="e.g. 2026-11; default: the current period")],
        responses={200: s.DomainTotalSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def domains(self, request):
        """What each domain's invoices total in a period, its whole subtree included."""
        period = _period_of_request(request)
        page = self.paginate_queryset(selectors.domains_for_totals(self.principal).order_by("path"))
        totals = selectors.domain_totals(self.principal, page, period)
        names = {d.pk: d.name for d in page}
        rows = [
            {
                "domain_id": domain_id,
                "domain_name": names[domain_id],
                "currency": currency,
                "finalized_total": finalized,
                "draft_total": draft,
                "projects": projects,
            }
            for (domain_id, currency), (finalized, draft, projects) in sorted(
                totals.items(), key=lambda item: (names[item[0][0]], item[0][1])
            )
        ]
        return self.get_paginated_response(s.DomainTotalSerializer(rows, many=True).data)


class BudgetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.BudgetSerializer
    write_serializer_class = s.BudgetCreateSerializer
    update_serializer_class = s.BudgetUpdateSerializer
    filterset_fields = ["project", "domain", "currency"]

    def get_queryset(self):
        found = selectors.budgets_for(self.principal).prefetch_related("notices")
        return with_spend(found, period_of(timezone.now()))

    def create(self, request):
        data = dict(self.validated())
        project_id, domain_id = data.pop("project_id"), data.pop("domain_id")
        if (project_id is None) == (domain_id is None):
            raise ValidationFailed("Say project_id or domain_id (one of them).", code="budget_scope")
        if project_id is not None:
            data["project"] = visible_project(self.principal, project_id)
        else:
            data["domain"] = get_or_404(domains_for(self.principal), "domain", pk=domain_id)
        budget = budgets.create_budget(self.actor, **data)
        return Response(
            s.BudgetSerializer(self.get_queryset().get(pk=budget.pk)).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, pk=None):
        budget = budgets.update_budget(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(s.BudgetSerializer(self.get_queryset().get(pk=budget.pk)).data)

    def destroy(self, request, pk=None):
        budgets.delete_budget(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
