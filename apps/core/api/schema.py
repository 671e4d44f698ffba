"""What the published OpenAPI schema covers: the REST API under /api/v1/, nothing else.

The agents' endpoint (/internal/agent/v1/) has DRF views too, but it is signed by
hosts and described by agent/protocol.py; it is no API clients may call.
"""

from django.urls import reverse


def only_the_public_api(endpoints):
    """drf-spectacular preprocessing hook: keep the endpoints under the API's root."""
    prefix = reverse("api:root")
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(prefix)]
