"""Every number a request body takes has bounds in the schema, and they fit the columns (int64 at most).

The schema is generated from the serializers, so a field declared without the
bounds of its column (apps/core/bounds.py) shows here as a property without
`minimum` or `maximum`: the guard that keeps the rule from being fixed only
where a fuzzer happened to look.
"""

from apps.core.bounds import INT64_MAX, INT64_MIN


def numbers(schema, where):
    if schema.get("type") in ("integer", "number") and not schema.get("readOnly"):
        yield where, schema
    for name, inner in schema.get("properties", {}).items():
        yield from numbers(inner, f"{where}.{name}")
    if "items" in schema:
        yield from numbers(schema["items"], f"{where}[]")


def test_every_number_a_request_body_takes_is_bounded_by_what_its_column_holds(client, db):
    components = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    bodies = {name: schema for name, schema in components.items() if name.endswith("Request")}

    unbounded = [
        where
        for name, schema in bodies.items()
        for where, number in numbers(schema, name)
        if not INT64_MIN
        <= number.get("minimum", INT64_MIN - 1)
        <= number.get("maximum", INT64_MAX + 1)
        <= INT64_MAX
    ]

    assert len(bodies) > 30
    assert unbounded == []
