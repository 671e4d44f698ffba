"""The agent endpoint's views: plain Django views (no session, no CSRF), JSON in the API's error envelope."""

import json
from contextlib import nullcontext

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Subquery
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from agent import protocol, signing
from apps.core.errors import Conflict, NotAuthenticated, PermissionDenied, ServiceError
from apps.infrastructure.task_key import controller_public_keys
from apps.jobs.models import Job

from ..hostwork import kinds as host_work
from ..hostwork.reports import apply_report
from ..models import Host
from ..services.enrollment import enroll
from ..services.heartbeats import heartbeat_extras, record_heartbeat
from . import hooks
from .authentication import enrolled_host, signed_host
from .nonce_read import first_remembering_nonce


def _error(status, code, message, details=None):
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": details or {}}}, status=status
    )


def agent_view(view):
    """Protocol and service errors become the error envelope; nothing an agent sends causes a 500."""

    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ServiceError as error:
            return _error(error.status, error.code, error.message, error.details)
        except (protocol.ProtocolError, json.JSONDecodeError, UnicodeDecodeError) as error:
            return _error(400, "malformed", f"Not a valid protocol message: {error}")

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _message(schema, body):
    return schema.from_dict(json.loads(body.decode("utf-8")))


def _enrolled_host(name, _message, _nonce):
    return enrolled_host(name)


def signed_message(request, schema, find_host=_enrolled_host):
    """(host, message): the message must be signed by the host it is about.

    `find_host(name, message, nonce)` reads the signing host, and may read what the
    message names with it (and remember the nonce: nonce_read.py): the message is
    parsed before its signature is checked for that alone, and nothing it says is
    used before the check.
    """
    body = request.body
    message = _message(schema, body)
    nonce = request.headers.get(signing.HEADER_NONCE, "")
    host, _ = signed_host(request, body, lambda name: find_host(name, message, nonce))
    if message.host != host.name:
        raise PermissionDenied(
            f"Host {host.name} signed a message about host {message.host}.", code="other_host"
        )
    return host, message


def _signed_by_current_key(request, body):
    """For a re-enrollment: whether the request is signed with the host's current key."""

    def proves(host):
        try:
            signed, _ = signed_host(request, body, lambda name: host if name == host.name else None)
        except NotAuthenticated:
            return False
        return signed is host

    return proves


@agent_view
@require_POST
def enroll_view(request):
    """A one-time token registers the host's public key; the answer: host name, controller keys and, when
    the host asked for one, its TLS certificate."""
    body = request.body
    message = _message(protocol.EnrollRequest, body)
    host = enroll(
        message.token,
        message.public_key,
        host_name=message.host,
        client_address=request.client_address,
        protocol_version=message.protocol_version,
        tls_csr=message.tls_csr,
        proves_old_key=_signed_by_current_key(request, body),
    )
    answer = protocol.EnrollResponse(
        host=host.name,
        controller_public_keys=controller_public_keys(),
        tls_certificate=host.tls_certificate,
        tls_ca_certificate=host.tls_ca_certificate,
    ).to_dict()
    if message.protocol_version < 2:
        # A version 1 agent refuses fields it does not know.
        del answer["tls_certificate"], answer["tls_ca_certificate"]
    return JsonResponse(answer)


def require_supported(version):
    if version not in protocol.SUPPORTED_PROTOCOL_VERSIONS:
        raise Conflict(protocol.unsupported_version_message(version), code="unsupported_version")


@agent_view
@require_POST
def heartbeat_view(request):
    """The answer says whether the host is fenced: an agent that hears so destroys its guests."""
    host, heartbeat = signed_message(request, protocol.Heartbeat)
    require_supported(heartbeat.protocol_version)
    with transaction.atomic():
        state = record_heartbeat(
            host,
            {
                "cpus": heartbeat.capacity.cpus,
                "ram_mb": heartbeat.capacity.ram_mb,
                # The room left on the agent's data directory is what new disks can use.
                "disk_gb": heartbeat.capacity.disk_free_mb // 1024,
                "hypervisor_type": heartbeat.hypervisor.type.lower(),
                "hypervisor_version": heartbeat.hypervisor.version,
                "arch": heartbeat.hypervisor.arch,
                "protocol_version": heartbeat.protocol_version,
            },
            heartbeat_extras(heartbeat),
        )
        for handler in hooks.inventory_handlers():
            handler(host, heartbeat.inventory)
    return JsonResponse(protocol.HeartbeatAnswer(fenced=state == Host.FENCED).to_dict())


def _host_with_job(name, report, nonce):
    """The enrolled host `name` with `.job`: the job whose step in flight went to that host under the
    reported task id, else None.

    One statement when the job is the host's (every report but a wrong one): the
    host's id and key ride on the job's row, with its kind's report checks, and
    the statement remembers the request's nonce (`.nonce_fresh`).
    """
    enrolled = Host.objects.filter(name=name).exclude(public_key="")
    job, fresh = first_remembering_nonce(
        Job.objects.filter(task_id=report.task_id, queue=protocol.queue_for_host(name)).annotate(
            host_pk=Subquery(enrolled.values("pk")),
            host_public_key=Subquery(enrolled.values("public_key")),
            **host_work.report_checks(name),
        ),
        name,
        nonce,
    )
    if job is None or job.host_pk is None:
        host, job = enrolled.only("name", "public_key").first(), None
    else:
        # Fields in the model's order, as from_db wants them; the others load if a handler reads them.
        host = Host.from_db(
            DEFAULT_DB_ALIAS, ["id", "name", "public_key"], [job.host_pk, name, job.host_public_key]
        )
    if host is not None:
        host.job = job
        host.nonce_fresh = fresh
    return host


@agent_view
@require_POST
def task_report_view(request):
    host, report = signed_message(request, protocol.TaskReport, _host_with_job)
    require_supported(report.protocol_version)
    if host.job is None:
        raise Conflict(f"Task {report.task_id} was not sent to host {host.name}.", code="not_this_hosts_task")
    # A "running" or "progress" report only moves its job forward by updates that each stand alone.
    applied = nullcontext() if report.state in ("running", "progress") else transaction.atomic()
    with applied:
        apply_report(host.job, host, report)
    return JsonResponse({})


def message_view(schema, handler):
    """The view of a kind of signed message another app registered (hooks.register_message_handler)."""

    @agent_view
    @require_POST
    def view(request):
        host, message = signed_message(request, schema)
        return JsonResponse(handler(host, message))

    view.__name__ = f"{schema.__name__.lower()}_view"
    return view


def query_view(handler):
    """The view of a kind of signed GET another app registered (hooks.register_query_handler).

    The path, and so what it names, is part of what the host signed.
    """

    @agent_view
    @require_GET
    def view(request, **captured):
        host, _ = signed_host(request, b"")
        return JsonResponse(handler(host, **captured))

    view.__name__ = f"{handler.__name__}_view"
    return view
