"""One limit field per quota resource of a project or a domain."""

from django import forms

from apps.core.bounds import column_bounds
from apps.core.errors import ServiceError
from apps.core.web.forms import ServiceForm
from apps.quotas import resources
from apps.quotas.models import UNLIMITED, QuotaUsage


class LimitsForm(ServiceForm):
    """The page says once that -1 is no limit and that an empty field keeps its limit."""

    all_optional = True

    def __init__(self, usage, *args, **kwargs):
        """usage: {resource: (limit, used)} as quotas.services.usage_of() returns it."""
        super().__init__(*args, **kwargs)
        self.usage = usage
        for name, resource in resources.resource_types().items():
            self.fields[name] = forms.IntegerField(
                label=resource.description
                if resource.unit == "count"
                else f"{resource.description} ({resource.unit})",
                **column_bounds(QuotaUsage, "limit", min_value=UNLIMITED),
                required=False,
                initial=usage.get(name, (UNLIMITED, 0))[0],
            )

    def changed_limits(self):
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value is not None and value != self.usage.get(name, (None,))[0]
        }

    def submit(self, set_limit):
        """Call set_limit(resource, limit) for every changed limit; a refusal lands on its own field.

        Each limit is its own audited change, so those set before a refusal stay set.
        """
        if not self.is_valid():
            return False
        self.result = {}
        for name, value in self.changed_limits().items():
            try:
                set_limit(name, value)
            except ServiceError as error:
                self._service_status = error.status
                self.add_error(name, error.message)
                return False
            self.result[name] = value
        return True
