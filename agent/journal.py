"""What happened to each finished task, on disk, so that a redelivered task does not run twice.

Celery delivers at least once (acks_late): a task can arrive again after it
finished, e.g. when the worker died before acknowledging it. Its recorded
outcome is then reported again instead of running it a second time.
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
        path = self._path(report.task_id)
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(report.to_dict()))
        os.rename(temp, path)

    def prune(self, older_than_seconds, now=None):
        now = time.time() if now is None else now
        for path in self.directory.glob("*.json"):
            if now - path.stat().st_mtime > older_than_seconds:
                path.unlink(missing_ok=True)
