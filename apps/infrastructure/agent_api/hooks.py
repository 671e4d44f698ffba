"""What other apps do with agent heartbeats, registered in their AppConfig.ready().

Task reports are host work's (apps.infrastructure.hostwork); which images a host
may fetch or upload is the images app's (apps.images.host_access).

- inventory handler: fn(host, inventory) applies what a heartbeat says exists on the host.
"""

_inventory_handlers = []


def register_inventory_handler(handler):
    _inventory_handlers.append(handler)


def inventory_handlers():
    return list(_inventory_handlers)
