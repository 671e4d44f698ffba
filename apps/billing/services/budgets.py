"""Budgets: a spending level per billing period; crossing 80 % and 100 % sends one email each.

Spend is what the period's invoices (drafts included) and credit notes total,
for a project or for a domain's whole subtree, in the budget's currency. A
notice row, unique per budget, period and threshold, is inserted in the same
transaction that sends the email: only the process that inserted it sends,
and a failed send rolls it back to be tried again on the next run.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.errors import ValidationFailed
from apps.identity.services.common import require, save_unique

from ..models import MONEY, Budget, Invoice, RateCard
from ..money import parse_amount
from ..periods import period_of
from .rate_cards import checked_currency

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 10


def budget_target(budget):
    if budget.project_id is not None:
        return budget.project.target()
    return budget.domain.target()


def _checked_amount(amount):
    try:
        return parse_amount(amount, "A budget")
    except ValueError as error:
        raise ValidationFailed(f"{error}.", code="bad_amount") from error


def _charged_currency(currency):
    """A budget in a currency no rate card charges in would never fire."""
    currency = checked_currency(currency)
    if not RateCard.objects.filter(currency=currency).exists():
        raise ValidationFailed(f"Nothing is charged in {currency}.", code="currency_not_charged")
    return currency


def _checked_emails(emails):
    emails = [str(e).strip() for e in emails]
    if len(emails) > MAX_RECIPIENTS:
        raise ValidationFailed(f"At most {MAX_RECIPIENTS} addresses.", code="too_many_recipients")
    for email in emails:
        try:
            validate_email(email)
        except DjangoValidationError as error:
            raise ValidationFailed(f"{email!r} is not an email address.", code="bad_email") from error
    return emails


def create_budget(actor, *, amount, currency, project=None, domain=None, notify_emails=None):
    """Set a budget on a project or a domain; notices go to `notify_emails`, by default the setter."""
    action = "billing.budget.create"
    budget = Budget(project=project, domain=domain, created_by_id=actor.user.pk if actor.user else None)
    target = budget_target(budget)
    with audited(actor, action, target=target) as op:
        require(actor, action, target, f"You may not set budgets on {project or domain}.")
        budget.amount = _checked_amount(amount)
        budget.currency = _charged_currency(currency)
        if notify_emails is None:
            notify_emails = [actor.user.email] if actor.user is not None and actor.user.email else []
        budget.notify_emails = _checked_emails(notify_emails)
        op.object = budget
        op.details = {"amount": str(budget.amount), "currency": budget.currency}
        save_unique(budget, f"{project or domain} already has a budget in {budget.currency}.")
    return budget


def update_budget(actor, budget, *, amount=None, notify_emails=None):
    action = "billing.budget.update"
    target = budget_target(budget)
    with audited(actor, action, target=target, obj=budget) as op:
        require(actor, action, target, f"You may not change budget {budget}.")
        if amount is not None:
            budget.amount = _checked_amount(amount)
        if notify_emails is not None:
            budget.notify_emails = _checked_emails(notify_emails)
        op.details = {"amount": str(budget.amount), "notify_emails": len(budget.notify_emails)}
        budget.save(update_fields=["amount", "notify_emails", "updated_at"])
    return budget


def delete_budget(actor, budget):
    action = "billing.budget.delete"
    target = budget_target(budget)
    with audited(actor, action, target=target, obj=budget):
        require(actor, action, target, f"You may not delete budget {budget}.")
        budget.delete()


def with_spend(budgets, period):
    """Annotate each budget with `spend`: its scope's invoices and credit notes of the period."""
    invoices = Invoice.objects.filter(period_start=period.start, currency=OuterRef("currency"))

    def total(scope):
        summed = scope.order_by().values("currency").annotate(s=Sum("total")).values("s")
        return Coalesce(Subquery(summed), Value(0), output_field=DecimalField(**MONEY))

    return budgets.annotate(
        project_spend=total(invoices.filter(project_id=OuterRef("project_id"))),
        domain_spend=total(invoices.filter(domain_path__startswith=OuterRef("domain__path"))),
    )


def spend_of(budget):
    return budget.project_spend if budget.project_id is not None else budget.domain_spend


def crossed(budget, spend):
    return [t for t in Budget.THRESHOLDS if spend * 100 >= budget.amount * t]


def check_budgets(now=None):
    """Send the notices of every threshold crossed in the current period; returns how many were sent."""
    period = period_of(now or timezone.now())
    sent = 0
    budgets = with_spend(Budget.objects.select_related("project__domain", "domain"), period)
    for budget in budgets:
        spend = spend_of(budget)
        for threshold in crossed(budget, spend):
            try:
                sent += _notify(budget, period, threshold, spend)
            except Exception:
                log.exception(
                    "budget %s: the %d%% notice could not be sent; will retry", budget.pk, threshold
                )
    return sent


_CLAIM_NOTICE = """
INSERT INTO billing_budgetnotice (budget_id, period_start, threshold, spend, recipients, sent_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT ON CONSTRAINT budget_notice_once_per_period DO NOTHING
"""


def _notify(budget, period, threshold, spend):
    """1 if this call sent the notice, 0 if it had been sent already (by anyone)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_NOTICE,
            [budget.pk, period.start, threshold, spend, budget.notify_emails, timezone.now()],
        )
        if cursor.rowcount == 0:
            return 0
        scope = budget.project or budget.domain
        if budget.notify_emails:
            send_mail(
                f"[cloudmgr] Budget {threshold}% reached: {scope} ({period.label})",
                f"Spend for {scope} in {period.label} is {spend} {budget.currency},"
                f" {threshold}% or more of its budget of {budget.amount} {budget.currency}.\n",
                settings.DEFAULT_FROM_EMAIL,
                budget.notify_emails,
            )
        else:
            log.warning("budget %s crossed %d%% but names no one to tell", budget.pk, threshold)
        return 1
