"""Whether a domain, or any domain above it, is disabled: what makes everything below it unusable."""

from django.db.models import CharField, Exists, ExpressionWrapper, F
from django.db.models.lookups import StartsWith

from .models import Domain


def disabled_above(path_ref):
    """A subquery expression: true when the domain at path_ref, or one above it, is disabled."""
    return Exists(
        Domain.objects.filter(
            StartsWith(ExpressionWrapper(path_ref, output_field=CharField()), F("path")),
            enabled=False,
        )
    )


def chain_disabled(domain):
    return Domain.objects.filter(enabled=False, path__in=_prefixes(domain.path)).exists()


def _prefixes(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
