"""Emptying the database after a transactional test (flushing.py) leaves what Django's own flush leaves."""

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from apps.billing.models import Invoice
from apps.billing.tests.invoicing import finalized_invoice, priced
from apps.compute.tests.factories import OfferingFactory

from .flushing import KEPT_TABLES, empty_database


def rows_by_table():
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def test_emptying_deletes_every_row_a_test_wrote_a_finalized_invoice_included(project):
    priced()
    invoice = finalized_invoice(project, OfferingFactory(name="m1.small", vcpus=1, ram_mb=1024))
    assert invoice.state == Invoice.FINALIZED
    written = {table for table, count in rows_by_table().items() if count}
    assert {"billing_invoice", "billing_invoiceline", "identity_domain", "identity_project"} <= written
    with connection.cursor() as cursor:
        # Check the foreign keys now, as the commit of a transactional test would have.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    empty_database("default")

    left = {table: count for table, count in rows_by_table().items() if count}
    assert set(left) == KEPT_TABLES


def test_emptying_keeps_the_content_type_and_permissions_of_every_model(root):
    empty_database("default")

    for model in apps.get_models():
        kept = ContentType.objects.filter(app_label=model._meta.app_label, model=model._meta.model_name)
        assert kept.exists(), model
        permissions = Permission.objects.filter(content_type__in=kept).count()
        assert permissions >= len(model._meta.default_permissions), model
