"""The billing app's policy actions (what a role may be allowed to do), registered in its ready()."""

from apps.core.policy import ADMINISTER, PLATFORM_KIND, READ

POLICY_ACTIONS = [
    ("billing.usage.read", READ, "See the hourly usage of projects"),
    ("billing.invoice.read", READ, "See invoices and credit notes, and what they total per domain"),
    ("billing.invoice.finalize", PLATFORM_KIND, "Finalize the invoices of a closed period"),
    ("billing.invoice.credit", PLATFORM_KIND, "Issue a credit note against a finalized invoice"),
    ("billing.rate_card.read", READ, "See the prices that apply where one acts"),
    ("billing.rate_card.create", PLATFORM_KIND, "Create the default or a domain's rate card"),
    ("billing.rate_card.update", PLATFORM_KIND, "Rename a rate card, add or withdraw prices"),
    ("billing.rate_card.delete", PLATFORM_KIND, "Delete a domain's rate card"),
    ("billing.budget.read", READ, "See budgets and the notices they sent"),
    ("billing.budget.create", ADMINISTER, "Set a budget on a project or a domain"),
    ("billing.budget.update", ADMINISTER, "Change a budget"),
    ("billing.budget.delete", ADMINISTER, "Delete a budget"),
]
