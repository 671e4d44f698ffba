"""The printable invoice page: the invoice and its lines, on a page that needs nothing else."""

import re

from django.test import Client

from .invoicing import draft_invoice, finalized_invoice, priced

PAST = "2020-01"


def page(user, invoice):
    client = Client()
    client.force_login(user)
    return client.get(f"/billing/invoices/{invoice.pk}/")


def test_the_printable_page_shows_the_lines_and_the_total_and_loads_nothing_from_elsewhere(
    member, project, small
):
    priced()
    invoice = finalized_invoice(project, small, month=PAST)

    response = page(member, invoice)

    text = response.content.decode()
    assert response.status_code == 200
    assert "Invoice INV-00000001" in text
    assert "1.00 EUR" in text
    assert "10.000000" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)


def test_a_draft_says_it_is_the_usage_to_date(member, project, small):
    priced()
    response = page(member, draft_invoice(project, small, month=PAST))
    assert "draft: usage to date" in response.content.decode()


def test_someone_signed_out_is_sent_to_sign_in(project, small):
    priced()
    response = Client().get(f"/billing/invoices/{draft_invoice(project, small, month=PAST).pk}/")
    assert response.status_code == 302
    assert "next=" in response["Location"]
