"""The wire to the agents: a signed task envelope sent by name to the host's own Celery queue."""

from agent import protocol, signing
from apps.infrastructure.task_key import signing_key
from cloudmgr.celery import app


def send_task(host, task_name, *, task_id, payload, expires_at):
    """Sign `payload` for `host` and put it on `host.<name>`; raises when the broker cannot take it."""
    envelope = signing.sign_task(
        signing_key(),
        task=task_name,
        task_id=task_id,
        host=host.name,
        payload=payload,
        expires_at=int(expires_at.timestamp()),
    )
    app.send_task(task_name, args=[envelope], queue=protocol.queue_for_host(host.name), retry=False)
    return envelope
