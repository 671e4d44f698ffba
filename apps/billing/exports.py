"""Invoices as CSV and as plain text (the JSON export is the API's own representation)."""

import csv
import io

from .money import unit_hours
from .periods import period_of

CSV_HEADER = [
    "document",
    "state",
    "project",
    "period",
    "currency",
    "description",
    "resource_type",
    "resource_id",
    "resource_name",
    "offering",
    "unit_price",
    "unit_hours",
    "amount",
    "first_hour",
    "last_hour",
]


def _iso(moment):
    return moment.isoformat() if moment else ""


def invoice_csv(invoice):
    """One row per line, then a TOTAL row; amounts as plain decimals in the invoice's currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    document = invoice.number or f"draft-{invoice.pk}"
    head = [
        document,
        invoice.state,
        invoice.project_name,
        period_of(invoice.period_start).label,
        invoice.currency,
    ]
    for line in invoice.lines.all():
        writer.writerow(
            [
                *head,
                _safe(line.description),
                line.resource_type,
                line.resource_id or "",
                _safe(line.resource_name),
                _safe(line.offering_name),
                "" if line.unit_price is None else line.unit_price,
                unit_hours(line.unit_seconds),
                line.amount,
                _iso(line.first_hour),
                _iso(line.last_hour),
            ]
        )
    writer.writerow([*head, "TOTAL", "", "", "", "", "", "", invoice.total, "", ""])
    return out.getvalue()


def _safe(text):
    """Names are chosen by tenants: one a spreadsheet would run as a formula is quoted as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def invoice_text(invoice):
    """The invoice as the showinvoice command prints it."""
    period = period_of(invoice.period_start).label
    rows = [
        f"{invoice.kind.replace('_', ' ')} {invoice.number or '(draft)'} [{invoice.state}]",
        f"project {invoice.project_name} ({invoice.project_id}), period {period}, {invoice.currency}",
        "",
    ]
    for line in invoice.lines.all():
        price = (
            ""
            if line.unit_price is None
            else f"{line.unit_price.normalize()} x {unit_hours(line.unit_seconds)} h"
        )
        rows.append(f"{line.description[:60]:<60} {price:>28} {line.amount:>14}")
    rows += ["", f"{'total':<89} {invoice.total:>14}"]
    return "\n".join(rows)
