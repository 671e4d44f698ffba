"""The two-agent dispatch of test_end_to_end, over Debian's rabbitmq-server instead of Redis.

Only the broker URL changes: the controller's Celery app and both agents
(`CLOUDMGR_AGENT_BROKER_URL`) use an AMQP URL to a RabbitMQ node the test starts
on free ports with its files in a throwaway directory; the scenario (placement
between two agents, every action, delete) is test_end_to_end's own.
"""

import pytest

from cloudmgr.celery import app

from .rabbitmq import RabbitMQServer
from .test_end_to_end import qcow2_image, start_agents  # noqa: F401 (fixtures)
from .test_end_to_end import (
    test_two_agents_spawn_an_anti_affine_pair_and_carry_out_every_action as two_agents_carry_out_every_action,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


def use_broker(url):
    """Point the controller's Celery app at `url`; returns the previous URL.

    Celery reads broker_url when it first connects, so the app's connection and
    producer pools are dropped (as Celery does after a fork) and made anew for the
    new URL. They are not closed: kombu shares them per URL with the rest of the
    process, and the previous broker's serve the next tests.
    """
    app._pool = None
    app.amqp._producer_pool = None
    previous = app.conf.broker_url
    app.conf.broker_url = url
    return previous


@pytest.fixture
def rabbitmq():
    server = RabbitMQServer()
    try:
        server.wait_ready()
        previous = use_broker(server.url)
        try:
            yield server
        finally:
            use_broker(previous)
    finally:
        server.stop()


def test_two_agents_carry_out_every_action_with_rabbitmq_as_the_broker(
    rabbitmq,
    start_agents,  # noqa: F811 (the imported fixture)
    api,
    project,
    offering,
    qcow2_image,  # noqa: F811 (the imported fixture)
):
    def start_on_rabbitmq(count, **agent_settings):
        return start_agents(count, broker_url=rabbitmq.url, **agent_settings)

    two_agents_carry_out_every_action(start_on_rabbitmq, api, project, offering, qcow2_image)
