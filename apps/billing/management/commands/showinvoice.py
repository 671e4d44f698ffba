"""Show an invoice: `showinvoice INV-00000042` (or its id), or `--project acme:web --period 2026-11`.

--format text (default), csv or json (the API's representation, lines included).
"""

import json
import uuid

from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone

from apps.billing.api.serializers import InvoiceDetailSerializer
from apps.billing.exports import invoice_csv, invoice_text
from apps.billing.models import Invoice
from apps.billing.periods import period_named, period_of
from apps.core.errors import NotFound
from apps.core.management.base import ServiceCommand
from apps.identity.lookup import project_by_name


def _by_number_or_id(reference):
    try:
        condition = Q(pk=uuid.UUID(reference))
    except ValueError:
        condition = Q(number=reference)
    return list(Invoice.objects.filter(condition))


class Command(ServiceCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("invoice", nargs="?", help="number (INV-…, CN-…) or id")
        parser.add_argument("--project", help="DOMAIN_PATH:PROJECT_NAME")
        parser.add_argument("--period", help="e.g. 2026-11 (default: the current period)")
        parser.add_argument("--format", choices=["text", "csv", "json"], default="text")

    def run(self, actor, invoice=None, project=None, period=None, format="text", **options):
        if bool(invoice) == bool(project):
            raise CommandError("name an invoice, or --project (with --period)")
        if invoice:
            found = _by_number_or_id(invoice)
        else:
            if ":" not in project:
                raise CommandError("--project takes DOMAIN_PATH:PROJECT_NAME")
            chosen = period_named(period) if period else period_of(timezone.now())
            owner = project_by_name(*project.rsplit(":", 1))
            found = list(
                Invoice.objects.filter(project_id=owner.pk, period_start=chosen.start).order_by("created_at")
            )
        if not found:
            raise NotFound("No such invoice.")
        for document in found:
            self.stdout.write(_render(document, format))


def _render(invoice, format):
    if format == "csv":
        return invoice_csv(invoice)
    if format == "json":
        return json.dumps(InvoiceDetailSerializer(invoice).data, default=str, indent=2)
    return invoice_text(invoice)
