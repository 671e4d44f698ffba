"""What other apps do with agent heartbeats and signed messages, registered in their AppConfig.ready().

Task reports are host work's (apps.infrastructure.hostwork); which images a host
may fetch or upload is the images app's (apps.images.host_access).

- inventory handler: fn(host, inventory) applies what a heartbeat says exists on the host;
- message handler, per protocol path: fn(host, message) -> dict (the JSON answer) applies one
  more kind of signed message (e.g. monitoring samples), parsed with its protocol schema and
  signed by the host it names; the path is served from then on (see urls.py).
"""

_inventory_handlers = []
_message_handlers = {}


def register_inventory_handler(handler):
    _inventory_handlers.append(handler)


def register_message_handler(path, schema, handler):
    _message_handlers[path] = (schema, handler)


def inventory_handlers():
    return list(_inventory_handlers)


def message_handlers():
    """{protocol path: (message schema, handler)} of every registered kind of message."""
    return dict(_message_handlers)
