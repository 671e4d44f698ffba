"""What happened to each finished task, and which instances were deleted here, on disk.

Celery delivers at least once (acks_late): a task can arrive again after it
finished, e.g. when the worker died before acknowledging it. Its recorded
outcome is then reported again instead of running it a second time.

A deleted instance is remembered too: a task about it that arrives after its
delete (a spawn sent late or redelivered) must not bring a guest back that no
quota or capacity holds any more. Both kinds of entry are kept for
`journal_retention_seconds`, far longer than any task's signed expiry, after
which no such task can be accepted anyway.
"""

import json
import os
import time
from pathlib import Path

from . import protocol
from .instance_files import PRIVATE_DIR_MODE, ensure_dir


class TaskJournal:
    def __init__(self, directory):
        self.directory = ensure_dir(Path(directory), PRIVATE_DIR_MODE)

    def _path(self, task_id):
        return self.directory / f"{task_id}.json"

    def get(self, task_id):
        try:
            return protocol.TaskReport.from_dict(json.loads(self._path(task_id).read_text()))
        except (OSError, ValueError):
            return None

    def record(self, report):
        _write(self._path(report.task_id), report.to_dict())

    def _deleted_path(self, instance_id):
        return self.directory / f"deleted-{instance_id}.json"

    def record_deleted(self, instance_id):
        _write(self._deleted_path(instance_id), {"instance_id": instance_id, "deleted_at": time.time()})

    def was_deleted(self, instance_id):
        return self._deleted_path(instance_id).exists()

    def prune(self, older_than_seconds, now=None):
        now = time.time() if now is None else now
        for path in self.directory.glob("*.json"):
            if now - path.stat().st_mtime > older_than_seconds:
                path.unlink(missing_ok=True)


def _write(path, value):
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(value))
    os.rename(temp, path)
