"""RabbitMQ as docs/install.md sets it up: one user per host, allowed only that host's queue.

A host in hostile hands has its broker credentials. With the permissions the
install guide gives (configure, write and read all `^host\\.<name>$`), host A's
user can use its own queue but cannot read, purge or publish to host B's, not
even through the default exchange. The node is Debian's rabbitmq-server on free
ports (rabbitmq.py); the client is py-amqp, which Celery's AMQP transport uses.
"""

import re

import amqp
import pytest

from agent import protocol

from .rabbitmq import RabbitMQServer

pytestmark = pytest.mark.processes

VHOST = "cloudmgr"
HOSTS = ("kvm-a.example", "kvm-b.example")


def host_user(name):
    return f"host-{name}", f"password-of-{name}"


@pytest.fixture(scope="module")
def broker():
    server = RabbitMQServer()
    try:
        server.wait_ready()
        server.rabbitmqctl("add_vhost", VHOST)
        server.rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
        for name in HOSTS:
            # The install guide's commands: the host's own queue, its name's dots escaped.
            own_queue = f"^{re.escape(protocol.queue_for_host(name))}$"
            user, password = host_user(name)
            server.rabbitmqctl("add_user", user, password)
            server.rabbitmqctl("set_permissions", "-p", VHOST, user, own_queue, own_queue, own_queue)
        with connect(server, "guest", "guest") as controller:
            channel = controller.channel()
            for name in HOSTS:
                queue = protocol.queue_for_host(name)
                channel.queue_declare(queue, durable=True, auto_delete=False)
                channel.basic_publish(amqp.Message(b"a signed task"), exchange="", routing_key=queue)
        yield server
    finally:
        server.stop()


def connect(server, user, password):
    connection = amqp.Connection(
        f"127.0.0.1:{server.port}", userid=user, password=password, virtual_host=VHOST
    )
    connection.connect()
    return connection


@pytest.fixture
def host_a(broker):
    with connect(broker, *host_user(HOSTS[0])) as connection:
        yield connection


B_QUEUE = protocol.queue_for_host(HOSTS[1])


def waiting_in_b(broker):
    with connect(broker, "guest", "guest") as controller:
        return controller.channel().queue_declare(B_QUEUE, passive=True).message_count


def test_a_host_reads_its_own_queue(host_a):
    message = host_a.channel().basic_get(protocol.queue_for_host(HOSTS[0]), no_ack=False)

    assert message is not None
    assert message.body == b"a signed task"


@pytest.mark.parametrize(
    "attempt",
    [
        lambda channel: channel.basic_get(B_QUEUE),
        lambda channel: channel.basic_consume(B_QUEUE),
        lambda channel: channel.queue_purge(B_QUEUE),
        lambda channel: channel.queue_delete(B_QUEUE),
        lambda channel: channel.queue_bind(B_QUEUE, exchange="amq.direct", routing_key="stolen"),
    ],
    ids=["get", "consume", "purge", "delete", "bind"],
)
def test_a_host_cannot_read_purge_or_rebind_another_hosts_queue(broker, host_a, attempt):
    with pytest.raises(amqp.exceptions.AccessRefused):
        attempt(host_a.channel())

    assert waiting_in_b(broker) == 1


@pytest.mark.parametrize("exchange", ["", "amq.direct", B_QUEUE])
def test_a_host_cannot_publish_to_another_hosts_queue_through_any_exchange(broker, host_a, exchange):
    channel = host_a.channel()

    # With publisher confirms, so the broker's refusal comes back to this call.
    with pytest.raises(amqp.exceptions.AccessRefused):
        channel.basic_publish_confirm(amqp.Message(b"a forged task"), exchange=exchange, routing_key=B_QUEUE)

    assert waiting_in_b(broker) == 1
