"""The schema of the networks API: the infrastructure facts a response leaves out for tenants are optional.

drf-spectacular marks every read-only field required; the serializers drop the
fields of INFRASTRUCTURE_ONLY for callers who may not read the networks
infrastructure, so the schema must not require them (a client, or the schema
fuzzer, checks a tenant's answer against it).
"""

from .serializers import INFRASTRUCTURE_ONLY


def infrastructure_facts_optional(result, generator, request, public):
    """drf-spectacular postprocessing hook (settings.SPECTACULAR_SETTINGS)."""
    schemas = result.get("components", {}).get("schemas", {})
    for model, fields in INFRASTRUCTURE_ONLY.items():
        component = schemas.get(model.__name__)
        if component is not None and "required" in component:
            component["required"] = [name for name in component["required"] if name not in fields]
    return result
