"""Billing data: hourly usage, rate cards, invoices and their lines, budgets and their notices.

Usage and invoices hold project and domain references by value (ids and
paths, no foreign keys): they are history and outlive what they describe.
Money is Decimal; amounts are kept to the cent (docs/billing.md: rounding).
"""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from apps.metering.events import LIFECYCLES
from apps.metering.models import MeteredResource

RESOURCE_TYPE_CHOICES = [(t, t) for t in LIFECYCLES]
MONEY = {"max_digits": 20, "decimal_places": 2}
PRICE = {"max_digits": 20, "decimal_places": 10}


class BillingState(models.Model):
    """One row: how far usage is rolled up, and whether the drafts were made with the latest prices."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # Every hour before it is rolled up for every resource.
    rolled_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change of prices; a cycle that finds the drafts made with an older version
    # drafts every open invoice again.
    prices_version = models.PositiveBigIntegerField(default=0)
    drafted_prices_version = models.PositiveBigIntegerField(default=0)


class OpenResource(models.Model):
    """A resource metered at the rollup's watermark: its usage runs on into the next hours, as its
    latest event (`event_id`, a metering.UsageEvent) says."""

    pk = models.CompositePrimaryKey("resource_type", "resource_id")
    resource_type = models.CharField(max_length=16)
    resource_id = models.UUIDField()
    event_id = models.BigIntegerField()


class UsageSubject(MeteredResource):
    """What an hourly record counts: one resource, where its usage is billable, its offering and size."""

    id = models.BigAutoField(primary_key=True)
    # md5 of all the subject's columns (apps/billing/rollup.py): the rollup finds a subject by this alone.
    key = models.UUIDField(unique=True)
    # Units counted per second of use: 1 (an instance, an address, a network) or whole GiB (storage).
    quantity = models.PositiveBigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["resource_type", "resource_id"], name="usage_subject_resource"),
            models.Index(fields=["project_id"], name="usage_subject_project"),
            models.Index(
                fields=["domain_path"], name="usage_subject_path", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return f"{self.resource_type} {self.resource_name or self.resource_id} x{self.quantity}"


class UsageRecord(models.Model):
    """Seconds of one hour during which the subject was metered (its units count for each second).

    The key leads with the hour: the rollup appends each hour's records at the end of the index (a
    third less work than keeping them by subject), and pricing reads a period's hours.
    """

    pk = models.CompositePrimaryKey("hour", "subject_id")
    # Subjects are never deleted, and the rollup writes them just before their records: no
    # foreign-key check per row (millions a month), and no index but the key's.
    subject = models.ForeignKey(
        UsageSubject, on_delete=models.PROTECT, related_name="records", db_constraint=False, db_index=False
    )
    hour = models.DateTimeField()
    seconds = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(seconds__gte=1, seconds__lte=3600), name="usage_record_seconds"
            )
        ]

    @property
    def unit_seconds(self):
        return self.subject.quantity * self.seconds


class RateCard(models.Model):
    """Prices in one currency: the default card (no domain) or a domain's, which rules its subtree."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64)
    domain = models.ForeignKey(
        "identity.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="rate_cards"
    )
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["domain"], name="rate_card_one_per_domain", nulls_distinct=False),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="rate_card_currency_code"
            ),
        ]

    def __str__(self):
        return self.name


class Rate(models.Model):
    """A price per unit-hour of a resource type (or of one offering), in force from a whole hour on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="rates")
    resource_type = models.CharField(max_length=16, choices=RESOURCE_TYPE_CHOICES)
    # Instances only: a price for one offering beats the card's price for every instance.
    offering_id = models.UUIDField(null=True, blank=True)
    offering_name = models.CharField(max_length=64, blank=True, default="")
    price = models.DecimalField(**PRICE)
    effective_from = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resource_type", "offering_name", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "resource_type", "offering_id", "effective_from"],
                name="rate_unique_start",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="rate_price_not_negative"),
        ]

    def __str__(self):
        what = self.offering_name or self.resource_type
        return f"{what} {self.price} {self.card.currency} from {self.effective_from.isoformat()}"


class Invoice(models.Model):
    """A project's charges for one billing period, in one currency, where the usage happened.

    A project that moved domains during a period has one invoice per place. A
    credit note is an invoice of kind credit_note with negative lines, tied to
    the finalized invoice it corrects. Once finalized, neither it nor its lines
    change: a database trigger refuses it (migration 0002).
    """

    INVOICE, CREDIT_NOTE = "invoice", "credit_note"
    KINDS = [(k, k) for k in (INVOICE, CREDIT_NOTE)]
    DRAFT, FINALIZED = "draft", "finalized"
    STATES = [(s, s) for s in (DRAFT, FINALIZED)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=KINDS, default=INVOICE)
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    state = models.CharField(max_length=16, choices=STATES, default=DRAFT)
    project_id = models.UUIDField()
    project_name = models.CharField(max_length=64, blank=True, default="")
    domain_path = models.CharField(max_length=2048)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(**MONEY, default=0)
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finalized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "project_name", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "domain_path", "period_start", "currency"],
                condition=Q(kind="invoice"),
                name="invoice_one_per_project_place_period",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_names_its_invoice",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(number__isnull=False, finalized_at__isnull=False),
                name="invoice_finalized_is_numbered",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="invoice_period_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["period_start", "state"], name="invoice_period_state"),
            models.Index(fields=["project_id", "period_start"], name="invoice_project_period"),
            models.Index(fields=["domain_path"], name="invoice_path", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return self.number or f"draft {self.kind} {self.id}"

    @property
    def is_finalized(self):
        return self.state == self.FINALIZED


class InvoiceLine(models.Model):
    """One resource at one rate (or, on a credit note, one correction)."""

    id = models.BigAutoField(primary_key=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=255)
    resource_type = models.CharField(max_length=16, blank=True, default="")
    resource_id = models.UUIDField(null=True, blank=True)
    resource_name = models.CharField(max_length=255, blank=True, default="")
    offering_name = models.CharField(max_length=64, blank=True, default="")
    rate_id = models.UUIDField(null=True, blank=True)
    unit_price = models.DecimalField(**PRICE, null=True, blank=True)
    # Units x seconds: the exact usage; unit-hours are this / 3600.
    unit_seconds = models.BigIntegerField(default=0)
    amount = models.DecimalField(**MONEY)
    first_hour = models.DateTimeField(null=True, blank=True)
    last_hour = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resource_type", "resource_name", "first_hour", "id"]

    def __str__(self):
        return f"{self.description}: {self.amount}"


class InvoiceCounter(models.Model):
    """The last number given to a finalized document of a kind: numbers run without gaps."""

    kind = models.CharField(max_length=16, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)


class Budget(models.Model):
    """A spending level per billing period for a project or a domain's subtree, in one currency."""

    THRESHOLDS = (80, 100)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="budgets"
    )
    domain = models.ForeignKey(
        "identity.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="budgets"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    notify_emails = ArrayField(models.EmailField(), default=list, blank=True)
    created_by_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=True) ^ Q(domain__isnull=True), name="budget_project_xor_domain"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_amount_positive"),
            models.UniqueConstraint(
                fields=["project", "currency"],
                condition=Q(project__isnull=False),
                name="budget_one_per_project",
            ),
            models.UniqueConstraint(
                fields=["domain", "currency"], condition=Q(domain__isnull=False), name="budget_one_per_domain"
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} for {self.project or self.domain}"


class BudgetNotice(models.Model):
    """A threshold of a budget crossed in a period; its row is what makes the email go once."""

    id = models.BigAutoField(primary_key=True)
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="notices")
    period_start = models.DateTimeField()
    threshold = models.PositiveSmallIntegerField()
    spend = models.DecimalField(**MONEY)
    recipients = ArrayField(models.EmailField(), default=list, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["period_start", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "period_start", "threshold"], name="budget_notice_once_per_period"
            )
        ]
