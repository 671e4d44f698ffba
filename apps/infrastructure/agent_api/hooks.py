"""What other apps do with agent messages, registered in their AppConfig.ready().

- report handler, per job kind prefix: fn(job, host, report) applies a TaskReport
  about a job sent to `host`; raises apps.core.errors.Conflict when the report
  is about something that is not the host's. "running" and "progress" reports
  are applied in autocommit, so for them a handler makes only compare-and-set
  updates that each stand alone; "succeeded" and "failed" ones in a transaction.
  Its optional `checks(host_name)` gives {name: boolean expression over jobs.Job}
  read with the job in the same query (False for jobs of other kinds), so the
  handler finds each as `job.<name>` instead of asking the database again;
- inventory handler: fn(host, inventory) applies what a heartbeat says exists on the host;
- image reader: fn(host) -> Q over images.Image, the images the host may fetch;
- image writer: fn(host) -> Q over images.Image, the images the host may upload (snapshots);
- message handler, per protocol path: fn(host, message) -> dict (the JSON answer) applies one
  more kind of signed message (e.g. monitoring samples), parsed with its protocol schema and
  signed by the host it names; the path is served from then on (see urls.py).
"""

from django.db.models import BooleanField, Case, Q, Value, When

_report_handlers = {}
_report_checks = {}
_inventory_handlers = []
_image_readers = []
_image_writers = []
_message_handlers = {}


def register_report_handler(kind_prefix, handler, checks=None):
    _report_handlers[kind_prefix] = handler
    if checks is not None:
        _report_checks[kind_prefix] = checks


def register_inventory_handler(handler):
    _inventory_handlers.append(handler)


def register_image_reader(reader):
    _image_readers.append(reader)


def register_image_writer(writer):
    _image_writers.append(writer)


def register_message_handler(path, schema, handler):
    _message_handlers[path] = (schema, handler)


def message_handlers():
    """{protocol path: (message schema, handler)} of every registered kind of message."""
    return dict(_message_handlers)


def report_handler_for(kind):
    for prefix, handler in _report_handlers.items():
        if kind.startswith(prefix):
            return handler
    return None


def report_checks(host_name):
    """{name: expression} of every handler's checks, each one False for jobs of other kinds."""
    annotations = {}
    for prefix, checks in _report_checks.items():
        for name, condition in checks(host_name).items():
            annotations[name] = Case(
                When(kind__startswith=prefix, then=condition),
                default=Value(False),
                output_field=BooleanField(),
            )
    return annotations


def inventory_handlers():
    return list(_inventory_handlers)


def readable_images(host):
    """A condition on images.Image: what the host may fetch (nothing when no reader is registered)."""
    condition = Q(pk__in=[])
    for reader in _image_readers:
        condition |= reader(host)
    return condition


def writable_images(host):
    """A condition on images.Image: what the host may upload to (nothing when no writer is registered)."""
    condition = Q(pk__in=[])
    for writer in _image_writers:
        condition |= writer(host)
    return condition
