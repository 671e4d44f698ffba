"""An enrolled host's side of the agent endpoint, for tests: its key, and requests it signs.

The signing is agent.protocol's, as the real agent does it (agent/controller_client.py
sends the same headers over urllib); only the transport is Django's test client.
"""

import time

from django.test import Client

from agent import protocol, signing
from apps.core.actor import Actor
from apps.infrastructure.services.enrollment import enroll
from apps.infrastructure.services.hosts import add_host

from .factories import ZoneFactory

SYSTEM = Actor.system("test")


class SignedAgent:
    def __init__(self, name, key=None):
        self.name = name
        self.key = key or signing.generate_private_key()
        self.client = Client()

    @classmethod
    def enrolled(cls, name, zone=None):
        """A host added by an admin and enrolled with a fresh key (state down until it heartbeats)."""
        _, token = add_host(SYSTEM, name=name, zone=zone or ZoneFactory(name="zone-a"))
        agent = cls(name)
        enroll(token, signing.public_key_b64(agent.key))
        return agent

    def post(self, path, message, *, signer=None, headers=None):
        """POST a protocol message signed with this host's key (or `signer`'s: (name, key))."""
        body = protocol.canonical_json(message.to_dict() if hasattr(message, "to_dict") else message)
        name, key = signer or (self.name, self.key)
        signed = headers or signing.sign_request(key, host=name, method="POST", path=path, body=body)
        return self.client.generic("POST", path, body, content_type="application/json", headers=signed)

    def get(self, path):
        signed = signing.sign_request(self.key, host=self.name, method="GET", path=path)
        return self.client.get(path, headers=signed)

    def heartbeat(self, instances=(), cpus=4, ram_mb=8192, disk_free_mb=102400):
        return self.post(
            protocol.HEARTBEAT_PATH, heartbeat_message(self.name, instances, cpus, ram_mb, disk_free_mb)
        )

    def report(self, job, task, state, *, result=None, error=None, progress=0):
        message = protocol.TaskReport(
            protocol_version=protocol.PROTOCOL_VERSION,
            host=self.name,
            task_id=str(job.pk),
            task=task,
            state=state,
            sent_at=int(time.time()),
            progress=progress,
            result=result,
            error=protocol.TaskError(*error) if error else None,
        )
        return self.post(protocol.TASK_REPORT_PATH, message)


def heartbeat_message(host, instances=(), cpus=4, ram_mb=8192, disk_free_mb=102400):
    return protocol.Heartbeat(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host,
        agent_version="test",
        sent_at=int(time.time()),
        capacity=protocol.Capacity(
            cpus=cpus, ram_mb=ram_mb, disk_total_mb=2 * disk_free_mb, disk_free_mb=disk_free_mb
        ),
        hypervisor=protocol.HypervisorInfo(
            type="QEMU",
            version="7.2.0",
            libvirt_version="9.0.0",
            domain_type="qemu",
            arch="x86_64",
            uri="qemu:///system",
        ),
        inventory=protocol.Inventory(instances=list(instances)),
    )
