"""The commands an operator pastes on a new host to enroll and run its agent, with nothing secret in them
but the one-time token.

The agent needs the controller's address (`enroll --controller`), the token, and the
broker's address (`CLOUDMGR_AGENT_BROKER_URL`, docs/agent.md). The controllers' own
broker credentials never appear: a password in the broker URL is replaced by a
placeholder, and with RabbitMQ the host gets a user of its own, allowed only its own
queue (docs/install.md), whose creation is the first step. The agent never needs
the database.
"""

import shlex
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings

from agent import protocol

AGENT = ".venv/bin/python -m agent"


@dataclass(frozen=True)
class Step:
    where: str
    commands: str


def controller_url_for_hosts(request):
    """Where hosts reach this controller: CLOUDMGR_URL_FOR_HOSTS, else the address the browser used."""
    return settings.CLOUDMGR_URL_FOR_HOSTS or request.build_absolute_uri("/").rstrip("/")


def host_broker_user(host_name):
    return f"host-{host_name}"


def _password_placeholder(what):
    return f"<{what}>"


def broker_url_for_host(host_name, broker_url=None):
    """The broker URL the agent of `host_name` uses, without the controllers' password."""
    parts = urlsplit(broker_url or settings.CELERY_BROKER_URL)
    if parts.scheme.startswith("amqp"):
        user = host_broker_user(host_name)
        credentials = f"{user}:{_password_placeholder(f'password of {user}')}@"
    elif parts.password is not None:
        user = quote(parts.username or "", safe="")
        credentials = f"{user}:{_password_placeholder('broker password')}@"
    else:
        credentials = f"{parts.username}@" if parts.username else ""
    netloc = credentials + parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _rabbitmq_user_step(host_name, broker_url):
    user = host_broker_user(host_name)
    vhost = urlsplit(broker_url).path.lstrip("/") or "/"
    # Host names are [a-z0-9.-]: only their dots mean something in a regular expression.
    queue = "^" + protocol.queue_for_host(host_name).replace(".", r"\.") + "$"
    password = _password_placeholder(f"password of {user}")
    commands = "\n".join(
        [
            f"rabbitmqctl add_user {user} {shlex.quote(password)}",
            f"rabbitmqctl set_permissions -p {shlex.quote(vhost)} {user} "
            + " ".join([shlex.quote(queue)] * 3),
        ]
    )
    return Step("On the broker (RabbitMQ): a user for this host, allowed only its own queue", commands)


def enrollment_steps(request, host, token):
    """[Step]: what to run where, in order."""
    broker_url = settings.CELERY_BROKER_URL
    steps = []
    if urlsplit(broker_url).scheme.startswith("amqp"):
        steps.append(_rabbitmq_user_step(host.name, broker_url))
    controller = controller_url_for_hosts(request)
    steps.append(
        Step(
            f"On {host.name}, in the agent's directory (docs/install.md: /opt/cloudmgr)",
            "\n".join(
                [
                    f"{AGENT} enroll --controller {shlex.quote(controller)} --token {token}",
                    f"CLOUDMGR_AGENT_BROKER_URL={shlex.quote(broker_url_for_host(host.name, broker_url))}"
                    f" {AGENT} run",
                ]
            ),
        )
    )
    return steps
