"""The data of the billing pages' charts, as static/billing/charts.js draws them (frappe-charts).

Amounts travel as exact decimal strings; the script reads them as numbers only
to draw. Every chart sits next to a table with the same figures.
"""

# How resource types are called on the charts.
TYPE_NAMES = {
    "instance": "Instances",
    "image": "Images",
    "snapshot": "Snapshots",
    "floating_ip": "Floating IPs",
    "network": "Networks",
}


def cost_chart(costs, currency):
    """A project's cost per day of the period in one currency, stacked by resource type."""
    return {
        "element": f"cost-chart-{currency.lower()}",
        "kind": "cost",
        "currency": currency,
        "labels": [str(day.day) for day in costs.days],
        "datasets": [
            {"name": TYPE_NAMES.get(resource_type, resource_type), "values": [str(v) for v in values]}
            for resource_type, values in costs.series(currency)
        ],
    }


def spend_chart(rows, currency):
    """What each domain's invoices total in a period, finalized and still drafts, in one currency."""
    shown = [row for row in rows if row["currency"] == currency]
    return {
        "element": f"spend-chart-{currency.lower()}",
        "kind": "spend",
        "currency": currency,
        "labels": [row["domain"].name for row in shown],
        "datasets": [
            {"name": "Finalized", "values": [str(row["finalized"]) for row in shown]},
            {"name": "Drafts to date", "values": [str(row["draft"]) for row in shown]},
        ],
    }
