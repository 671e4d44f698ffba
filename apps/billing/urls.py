"""Billing pages: the printable invoice; a project's usage and cost, invoices and budgets in the dashboard;
rate cards, invoices, spend per domain and budgets in the admin portal."""

from django.urls import path

from .web import budgets, confirmations, dashboard, invoices, rate_cards, spend, views

app_name = "billing"

PROJECT = "dashboard/projects/<uuid:project_id>/billing/"
ADMIN = "admin-portal/billing/"

urlpatterns = [
    path("billing/invoices/<uuid:invoice_id>/", views.invoice_page, name="invoice-page"),
    path("billing/budgets/<uuid:budget_id>/", budgets.budget_change, name="budget-change"),
    path("billing/budgets/<uuid:budget_id>/delete/", confirmations.budget_delete, name="budget-delete"),
    path(PROJECT, dashboard.project_costs, name="project-costs"),
    path(f"{PROJECT}invoices/", dashboard.project_invoices, name="project-invoices"),
    path(f"{PROJECT}budget/", dashboard.project_budget, name="project-budget"),
    path(f"{ADMIN}rate-cards/", rate_cards.rate_card_list, name="admin-rate-cards"),
    path(f"{ADMIN}rate-cards/<uuid:card_id>/", rate_cards.rate_card_detail, name="admin-rate-card"),
    path(
        f"{ADMIN}rate-cards/<uuid:card_id>/delete/",
        confirmations.rate_card_delete,
        name="admin-rate-card-delete",
    ),
    path(
        f"{ADMIN}rate-cards/<uuid:card_id>/prices/<uuid:rate_id>/withdraw/",
        confirmations.rate_withdraw,
        name="admin-rate-withdraw",
    ),
    path(f"{ADMIN}invoices/", invoices.invoice_list, name="admin-invoices"),
    path(f"{ADMIN}invoices/<uuid:invoice_id>/", invoices.invoice_detail, name="admin-invoice"),
    path(
        f"{ADMIN}invoices/<uuid:invoice_id>/finalize/",
        confirmations.invoice_finalize,
        name="admin-invoice-finalize",
    ),
    path(f"{ADMIN}spend/", spend.spend, name="admin-spend"),
    path(f"{ADMIN}budgets/", budgets.admin_budgets, name="admin-budgets"),
]
