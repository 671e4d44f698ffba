"""Where usage is billed (a project that moves) and which price applies (domain cards, offerings)."""

import uuid
from decimal import Decimal

import time_machine

from apps.billing.models import Invoice
from apps.billing.periods import period_of
from apps.billing.selectors import domain_totals, domains_for_totals, invoices_for
from apps.billing.services.cycle import run_cycle
from apps.core.actor import Actor
from apps.core.policy import Principal
from apps.identity.services.projects import move_project
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.metering import events as e

from . import usage as u
from .prices import card, price
from .usage import at

GIB = 1024**3


def test_usage_after_a_project_moves_is_billed_to_its_new_domain_and_before_to_its_old(root, small):
    old, new = DomainFactory(name="old-home"), DomainFactory(name="new-home")
    project = ProjectFactory(domain=old)
    price(card(), e.INSTANCE, "0.0100")
    vm = uuid.uuid4()
    u.instance_running("2026-11-01 00:00:00", vm, project, small)
    with time_machine.travel(at("2026-11-11 06:00:00"), tick=False):
        move_project(Actor.system("test"), project, new)
    # The instance keeps running through the move: no event of its own.

    run_cycle(at("2026-12-01 00:00"))

    by_place = {i.domain_path: i for i in Invoice.objects.filter(project_id=project.pk)}
    assert by_place.keys() == {old.path, new.path}
    assert by_place[old.path].total == Decimal("2.46")  # 246 h at 0.01
    assert by_place[new.path].total == Decimal("4.74")  # 474 h at 0.01

    admin_of_old = UserFactory(domain=old)
    grant(admin_of_old, "domain_admin", old)
    member = UserFactory(domain=new)
    grant(member, "project_member", project)
    assert set(invoices_for(Principal(admin_of_old))) == {by_place[old.path]}
    assert set(invoices_for(Principal(member))) == set(by_place.values())


def test_a_domain_card_rules_its_subtree_and_leaves_what_it_does_not_price_to_the_default(root, small):
    reseller = DomainFactory(name="reseller")
    customer = DomainFactory(name="customer", parent=reseller)
    elsewhere = DomainFactory(name="elsewhere")
    default, own = card("EUR"), card("EUR", domain=reseller)
    price(default, e.INSTANCE, "0.0100")
    price(default, e.INSTANCE, "0.0500", offering=small)
    price(default, e.IMAGE, "0.0010")
    price(own, e.INSTANCE, "0.0200")
    inside, outside = ProjectFactory(domain=customer), ProjectFactory(domain=elsewhere)
    for project in (inside, outside):
        u.instance_running("2026-11-01 00:00:00", uuid.uuid4(), project, small)
        u.stored("2026-11-01 00:00:00", e.IMAGE, uuid.uuid4(), project, GIB)

    run_cycle(at("2026-11-01 10:00"))

    def lines(project):
        invoice = Invoice.objects.get(project_id=project.pk)
        return sorted((line.resource_type, line.unit_price, line.amount) for line in invoice.lines.all())

    # The reseller's card has no offering price: its own instance price beats the default card's.
    assert lines(inside) == [
        ("image", Decimal("0.0010000000"), Decimal("0.01")),
        ("instance", Decimal("0.0200000000"), Decimal("0.20")),
    ]
    assert lines(outside) == [
        ("image", Decimal("0.0010000000"), Decimal("0.01")),
        ("instance", Decimal("0.0500000000"), Decimal("0.50")),
    ]


def test_a_price_of_a_domain_card_in_another_currency_makes_an_invoice_of_its_own(root, small):
    domain = DomainFactory()
    project = ProjectFactory(domain=domain)
    price(card("EUR"), e.IMAGE, "0.0100")
    price(card("USD", domain=domain), e.INSTANCE, "0.0300")
    u.instance_running("2026-11-02 00:00:00", uuid.uuid4(), project, small)
    u.stored("2026-11-02 00:00:00", e.IMAGE, uuid.uuid4(), project, 2 * GIB)

    run_cycle(at("2026-11-03 00:00"))

    totals = dict(Invoice.objects.filter(project_id=project.pk).values_list("currency", "total"))
    assert totals == {"USD": Decimal("0.72"), "EUR": Decimal("0.48")}


def test_the_totals_per_domain_roll_up_every_project_below_each_domain(root, small):
    top = DomainFactory(name="top")
    left, right = DomainFactory(name="left", parent=top), DomainFactory(name="right", parent=top)
    price(card(), e.INSTANCE, "0.0100")
    for domain, hours in ((left, 10), (right, 5), (top, 1)):
        project = ProjectFactory(domain=domain)
        vm = uuid.uuid4()
        u.instance_running("2026-11-01 00:00:00", vm, project, small)
        u.instance_stopped(f"2026-11-01 {hours:02d}:00:00", vm, project)

    run_cycle(at("2026-11-02 00:00"))

    admin = UserFactory(domain=top)
    grant(admin, "domain_admin", top)
    principal = Principal(admin)
    domains = list(domains_for_totals(principal))
    totals = domain_totals(principal, domains, period_of(at("2026-11-01 00:00")))
    assert {d.name: totals[(d.pk, "EUR")][1] for d in domains} == {
        "top": Decimal("0.16"),
        "left": Decimal("0.10"),
        "right": Decimal("0.05"),
    }
    assert totals[(top.pk, "EUR")][2] == 3


def test_a_price_added_for_hours_already_drafted_is_in_the_drafts_after_the_next_cycle(project, small):
    default = card()
    price(default, e.INSTANCE, "0.0100")
    vm = uuid.uuid4()
    u.instance_running("2026-11-01 00:00:00", vm, project, small)
    u.instance_stopped("2026-11-01 10:00:00", vm, project)
    run_cycle(at("2026-11-02 00:00"))
    assert Invoice.objects.get().total == Decimal("0.10")

    price(default, e.INSTANCE, "0.0500", offering=small)
    run_cycle(at("2026-11-02 00:10"))  # no new usage: only the prices changed

    assert Invoice.objects.get().total == Decimal("0.50")
