"""Budgets: one email per threshold and period, for a project or a whole domain; who may set them."""

import uuid
from decimal import Decimal

import pytest
from django.core import mail

from apps.billing.models import BudgetNotice
from apps.billing.services.budgets import create_budget, update_budget
from apps.billing.services.cycle import run_cycle
from apps.core.actor import Actor
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.policy import Principal
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant

from . import usage as u
from .invoicing import priced
from .prices import SYSTEM, card
from .usage import at


@pytest.fixture(autouse=True)
def _default_card(db):
    priced()


def subjects():
    return [message.subject for message in mail.outbox]


def test_crossing_80_and_100_percent_sends_one_email_each_per_period(project, small):
    create_budget(SYSTEM, project=project, amount="10.00", currency="EUR", notify_emails=["ops@example.test"])
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)

    run_cycle(at("2026-11-04 07:00"))  # 79 h: 7.90
    assert subjects() == []
    for moment in ("2026-11-04 08:00", "2026-11-04 08:30", "2026-11-04 12:00"):  # 80 h: 8.00, then more
        run_cycle(at(moment))
    assert subjects() == [f"[cloudmgr] Budget 80% reached: {project.name} (2026-11)"]
    run_cycle(at("2026-11-05 04:00"))  # 100 h
    run_cycle(at("2026-11-20 00:00"))
    assert len(mail.outbox) == 2
    assert "100%" in mail.outbox[1].subject
    assert mail.outbox[1].to == ["ops@example.test"]
    assert "10.00 EUR" in mail.outbox[1].body

    run_cycle(at("2026-12-04 08:00"))  # December starts again from nothing
    assert subjects()[-1] == f"[cloudmgr] Budget 80% reached: {project.name} (2026-12)"
    assert BudgetNotice.objects.count() == 3


def test_a_domain_budget_counts_every_project_below_it(root, small):
    top = DomainFactory(name="top")
    below = DomainFactory(name="below", parent=top)
    create_budget(SYSTEM, domain=top, amount="2.00", currency="EUR", notify_emails=["boss@example.test"])
    for domain in (top, below):
        u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), ProjectFactory(domain=domain), small)

    run_cycle(at("2026-11-01 08:00"))  # two instances, 8 h each: 1.60 of 2.00
    assert subjects() == ["[cloudmgr] Budget 80% reached: top (2026-11)"]


def test_a_notice_whose_email_fails_is_sent_on_a_later_run_and_then_only_once(project, small, settings):
    create_budget(SYSTEM, project=project, amount="1.10", currency="EUR", notify_emails=["ops@example.test"])
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)
    settings.EMAIL_BACKEND = "apps.billing.tests.failing_mail.EmailBackend"

    run_cycle(at("2026-11-01 09:00"))  # 0.90: past 80 %
    assert not BudgetNotice.objects.exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_cycle(at("2026-11-01 09:30"))
    run_cycle(at("2026-11-01 09:45"))
    assert len(mail.outbox) == 1
    assert BudgetNotice.objects.get().threshold == 80


def test_a_budget_counts_only_the_charges_in_its_currency(project, small):
    card("USD", domain=DomainFactory(), name="dollar prices elsewhere")
    create_budget(SYSTEM, project=project, amount="1.00", currency="USD", notify_emails=["ops@example.test"])
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)
    run_cycle(at("2026-11-03 00:00"))
    assert subjects() == []


def test_domain_admins_set_budgets_in_their_subtree_and_members_do_not(project, member, small):
    admin = UserFactory(domain=project.domain, email="admin@example.test")
    grant(admin, "domain_admin", project.domain)
    as_admin, as_member = Actor(Principal(admin)), Actor(Principal(member))

    budget = create_budget(as_admin, project=project, amount="5.00", currency="eur")
    assert (budget.currency, budget.notify_emails) == ("EUR", ["admin@example.test"])
    create_budget(as_admin, domain=project.domain, amount="50.00", currency="EUR")
    with pytest.raises(PermissionDenied):
        create_budget(as_member, project=project, amount="5.00", currency="USD")
    with pytest.raises(PermissionDenied):
        update_budget(as_member, budget, amount="500.00")
    with pytest.raises(PermissionDenied):
        create_budget(as_admin, domain=DomainFactory(), amount="5.00", currency="EUR")
    with pytest.raises(Conflict):
        create_budget(as_admin, project=project, amount="6.00", currency="EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "emails", "code"),
    [
        ("0", "EUR", [], "bad_amount"),
        ("-5", "EUR", [], "bad_amount"),
        ("1.005", "EUR", [], "bad_amount"),
        ("NaN", "EUR", [], "bad_amount"),
        ("10", "EURO", [], "bad_currency"),
        ("10", "JPY", [], "currency_not_charged"),
        ("10", "EUR", ["not-an-address"], "bad_email"),
        ("10", "EUR", [f"x{n}@example.test" for n in range(11)], "too_many_recipients"),
    ],
)
def test_a_budget_that_makes_no_sense_is_refused(project, amount, currency, emails, code):
    with pytest.raises(ValidationFailed) as refusal:
        create_budget(SYSTEM, project=project, amount=amount, currency=currency, notify_emails=emails)
    assert refusal.value.code == code


def test_raising_a_budget_keeps_the_notices_already_sent_for_the_period(project, small):
    budget = create_budget(
        SYSTEM, project=project, amount="1.00", currency="EUR", notify_emails=["o@example.test"]
    )
    u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)
    run_cycle(at("2026-11-01 09:00"))
    update_budget(SYSTEM, budget, amount=Decimal("100.00"))
    run_cycle(at("2026-11-05 00:00"))
    assert len(mail.outbox) == 1
