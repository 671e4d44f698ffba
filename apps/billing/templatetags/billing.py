"""Template filters of the billing pages."""

from django import template

from ..money import unit_hours as exact_unit_hours

register = template.Library()


@register.filter
def unit_hours(unit_seconds):
    """Unit-seconds as unit-hours, to six places (amounts come from the exact seconds)."""
    return exact_unit_hours(unit_seconds)
