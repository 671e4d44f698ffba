"""The wire to the agents: a signed task envelope sent by name to the host's own Celery queue."""

from agent import protocol, signing
from apps.infrastructure.task_key import signing_key
from cloudmgr.celery import app


def version_for(host):
    """The protocol version of the host's agent (an agent one version behind gets tasks it reads)."""
    if host.protocol_version in protocol.SUPPORTED_PROTOCOL_VERSIONS:
        return host.protocol_version
    return protocol.PROTOCOL_VERSION


def send_task(host, task_name, *, task_id, payload, expires_at):
    """Sign `payload` for `host` and put it on `host.<name>`; raises when the broker cannot take it."""
    envelope = signing.sign_task(
        signing_key(),
        task=task_name,
        task_id=task_id,
        host=host.name,
        payload=payload,
        expires_at=int(expires_at.timestamp()),
        version=version_for(host),
    )
    app.send_task(task_name, args=[envelope], queue=protocol.queue_for_host(host.name), retry=False)
    return envelope


def delete_queue(host_name):
    """Remove the host's queue and what waits on it (a removed host): nothing sent before reaches it."""
    queue = protocol.queue_for_host(host_name)
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        # Purged first: a virtual transport (Redis) deletes only the bindings its own connection made.
        channel.queue_purge(queue)
        channel.queue_delete(queue)


def purge_queue(host_name):
    """Drop what waits on the host's queue (a fenced host must find no task sent before)."""
    queue = protocol.queue_for_host(host_name)
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)
