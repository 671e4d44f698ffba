"""What other apps do with agent heartbeats and signed messages, registered in their AppConfig.ready().

Task reports are host work's (apps.infrastructure.hostwork); which images a host
may fetch or upload is the images app's (apps.images.host_access).

- inventory handler: fn(host, inventory) applies what a heartbeat says exists on the host;
- message handler, per protocol path: fn(host, message) -> dict (the JSON answer) applies one
  more kind of signed message (e.g. monitoring samples), parsed with its protocol schema and
  signed by the host it names; the path is served from then on (see urls.py);
- query handler, per protocol path (a Django route below the agent prefix, which may capture
  values, e.g. `instances/<uuid:instance_id>/metadata`): fn(host, **captured) -> dict answers a
  signed GET about the signing host's own things; it raises NotFound for anything else.
"""

_inventory_handlers = []
_message_handlers = {}
_query_handlers = {}


def register_inventory_handler(handler):
    _inventory_handlers.append(handler)


def register_message_handler(path, schema, handler):
    _message_handlers[path] = (schema, handler)


def register_query_handler(route, handler):
    _query_handlers[route] = handler


def inventory_handlers():
    return list(_inventory_handlers)


def message_handlers():
    """{protocol path: (message schema, handler)} of every registered kind of message."""
    return dict(_message_handlers)


def query_handlers():
    """{route below the agent prefix: handler} of every registered kind of signed GET."""
    return dict(_query_handlers)
