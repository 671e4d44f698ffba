"""manage.py rollupusage, closeperiod and showinvoice."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.billing.models import Invoice, UsageRecord

from .invoicing import priced, usage_of


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def november(project, small):
    """A project's 10 hours (1.00) on 2 November, priced."""
    priced()
    usage_of(project, small)
    return project


def test_rollupusage_rolls_up_drafts_and_says_what_it_did(november):
    said = run("rollupusage", "--until", "2026-11-03T00:00:00+00:00")

    assert said.startswith("rolled up until 2026-11-03T00:00:00+00:00: 2 event(s)")
    assert "1 draft invoice(s) written" in said
    assert UsageRecord.objects.count() == 10
    assert Invoice.objects.get().total == 1


@pytest.mark.parametrize("until", ["yesterday", "2026-11-03T00:00:00"])
def test_rollupusage_refuses_a_time_it_cannot_read(until):
    with pytest.raises(CommandError, match="until"):
        run("rollupusage", "--until", until)


def test_closeperiod_finalizes_a_period_that_is_over_and_refuses_one_that_is_not(november):
    run("rollupusage", "--until", "2026-12-01T02:00:00+00:00")
    with pytest.raises(CommandError, match="period_not_over"):
        run("closeperiod", "2099-01")

    assert run("closeperiod", "2026-11") == "period 2026-11: 1 invoice(s) finalized\n"
    assert run("closeperiod", "2026-11") == "period 2026-11: 0 invoice(s) finalized\n"
    with pytest.raises(CommandError, match="bad_period"):
        run("closeperiod", "November")


def test_showinvoice_prints_text_csv_or_json_by_number_or_project(november, project):
    run("rollupusage", "--until", "2026-12-01T02:00:00+00:00")
    run("closeperiod", "2026-11")
    domain_path = f"ROOT/{project.domain.name}"

    text = run("showinvoice", "INV-00000001")
    assert text.startswith("invoice INV-00000001 [finalized]")
    assert text.rstrip().endswith("1.00")
    assert run("showinvoice", "INV-00000001", "--format", "csv").startswith("document,state,project")
    shown = json.loads(
        run(
            "showinvoice",
            "--project",
            f"{domain_path}:{project.name}",
            "--period",
            "2026-11",
            "--format",
            "json",
        )
    )
    assert (shown["number"], shown["total"], len(shown["lines"])) == ("INV-00000001", "1.00", 1)
    with pytest.raises(CommandError, match="not_found"):
        run("showinvoice", "INV-99999999")
    with pytest.raises(CommandError, match="name an invoice"):
        run("showinvoice")
