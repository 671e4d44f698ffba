"""Billing pages: the printable invoice."""

from django.urls import path

from .web import views

app_name = "billing"

urlpatterns = [
    path("billing/invoices/<uuid:invoice_id>/", views.invoice_page, name="invoice-page"),
]
