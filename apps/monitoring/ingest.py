"""Storing a host's MetricsReport: one statement for the host's row and all its instances' rows.

What a host may write is bounded by the statement itself:
- only instances placed on the signing host: the rows are joined with
  compute_instance on (id, host), so the ownership of the whole report is one
  join, not a query per sample; samples of other instances are dropped;
- one row per subject per interval: the sample time is put in its interval's
  bucket and the primary key (subject, bucket) keeps the first row, so sending
  a report again, or many reports, writes nothing more;
- times only around now (the signed request's window), so a host cannot fill
  the past or the future;
- values within the protocol's bounds (checked when the report is parsed), and
  an instance's CPU and memory at most what it was given.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agent import protocol, signing
from apps.compute.models import Instance
from apps.core.errors import ValidationFailed

from . import partitions
from .tables import HOST_RAW, INSTANCE_RAW

# A sample is accepted as long as the signed request carrying it would be.
MAX_SAMPLE_SKEW_SECONDS = signing.REQUEST_MAX_SKEW_SECONDS
# The instance's own limits cap what a host may claim it used.
_INSTANCE_CAPS = {
    "cpu_millicores": "LEAST(s.cpu_millicores, i.vcpus * 1000)",
    "memory_used_mb": "LEAST(s.memory_used_mb, i.ram_mb)",
}


def _store_sql():
    host_columns = ", ".join(HOST_RAW.columns)
    host_values = ", ".join(["%(host_id)s", "%(at)s", *(f"%(host_{name})s" for name in HOST_RAW.series)])
    arrays = ", ".join(
        ["%(instance_ids)s::uuid[]", *(f"%({name})s::bigint[]" for name in INSTANCE_RAW.series)]
    )
    selected = ", ".join(
        ["s.instance_id", "%(at)s", *(_INSTANCE_CAPS.get(name, f"s.{name}") for name in INSTANCE_RAW.series)]
    )
    return (
        f"WITH host_row AS (INSERT INTO {HOST_RAW.name} ({host_columns}) VALUES ({host_values})"  # noqa: S608 (names from tables.py, values bound)
        " ON CONFLICT DO NOTHING)"
        f" INSERT INTO {INSTANCE_RAW.name} ({', '.join(INSTANCE_RAW.columns)})"
        f" SELECT {selected} FROM unnest({arrays}) AS s(instance_id, {', '.join(INSTANCE_RAW.series)})"
        f" JOIN {Instance._meta.db_table} i ON i.id = s.instance_id AND i.host_id = %(host_id)s"
        " ON CONFLICT DO NOTHING"
    )


STORE_SQL = _store_sql()


def bucket(sampled_at):
    """The start of the interval a sample time falls in."""
    interval = settings.CLOUDMGR_METRICS_INTERVAL_SECONDS
    return datetime.fromtimestamp(sampled_at // interval * interval, UTC)


def _parameters(host, report, at):
    parameters = {"host_id": host.pk, "at": at}
    parameters.update({f"host_{name}": getattr(report.host_sample, name) for name in HOST_RAW.series})
    parameters["instance_ids"] = [sample.instance_id for sample in report.instances]
    for name in INSTANCE_RAW.series:
        parameters[name] = [getattr(sample, name) for sample in report.instances]
    return parameters


def _no_partition(error):
    return getattr(error.__cause__, "pgcode", None) == "23514"


def store_report(host, report):
    """Store the report's samples; how many instance rows were written."""
    now = timezone.now().timestamp()
    if abs(report.sampled_at - now) > MAX_SAMPLE_SKEW_SECONDS:
        raise ValidationFailed(
            f"The samples are from {int(report.sampled_at - now)} s away from now.",
            code="sample_out_of_window",
        )
    at = bucket(report.sampled_at)
    parameters = _parameters(host, report, at)
    try:
        return _insert(parameters)
    except IntegrityError as error:
        if not _no_partition(error):
            raise
    # The periodic work creates partitions ahead; a cloud whose controllers were all stopped may lack one.
    for table in (HOST_RAW, INSTANCE_RAW):
        partitions.ensure_around(table, at, ahead=0)
    return _insert(parameters)


def _insert(parameters):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(STORE_SQL, parameters)
        return cursor.rowcount


def handle_metrics_report(host, report):
    """The agent endpoint's handler of METRICS_REPORT_PATH (registered in apps.py)."""
    if report.protocol_version not in protocol.SUPPORTED_PROTOCOL_VERSIONS:
        raise ValidationFailed("Unsupported protocol version.", code="unsupported_version")
    return {"stored_instances": store_report(host, report)}
