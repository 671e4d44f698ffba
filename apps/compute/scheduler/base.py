"""Filter and weigher bases, and loading the configured ones by name."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


class Filter:
    """Removes hosts that cannot take the request.

    `condition(request)` is an SQL condition (a Q) the host rows must meet, or
    None; `host_passes(host, request)` is a Python check of one loaded host.
    Prefer the condition: it runs on every host in one query, while the Python
    check runs host by host on the query's best-weighed rows.
    """

    name = ""

    def wanted(self, request):
        """Whether the request gives this filter anything to check."""
        return True

    def condition(self, request):
        return None

    def host_passes(self, host, request):
        return True

    @property
    def checks_in_python(self):
        return type(self).host_passes is not Filter.host_passes


class Weigher:
    """Orders hosts: `expression(request)` is an SQL number per host row, larger is better.

    A single weigher orders by its expression, descending for a positive
    multiplier and ascending for a negative one. Several are summed, each value
    times its multiplier after being scaled to 0..1 over the candidate hosts, so a
    multiplier means the same whatever the unit.
    """

    name = ""

    def expression(self, request):
        raise NotImplementedError

    @property
    def multiplier(self):
        return 1.0


def load(names, registry, kind):
    loaded = []
    for name in names:
        if name in registry:
            loaded.append(registry[name]())
        elif "." in name:
            loaded.append(import_string(name)())
        else:
            raise ImproperlyConfigured(
                f"unknown scheduler {kind} {name!r} (known: {', '.join(sorted(registry))})"
            )
    return loaded
