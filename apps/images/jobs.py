"""The image import job: fetch a URL into an image, its progress reported as the bytes arrive."""

import time

from .services import data

REPORT_EVERY_SECONDS = 1.0
MIB = 1024 * 1024


class ProgressReport:
    """Turn byte counts into job progress, at most once a second (and at each whole percent)."""

    def __init__(self, progress):
        self.progress = progress
        self.last_percent = -1
        self.last_at = 0.0

    def __call__(self, received, total):
        percent = min(99, received * 100 // total) if total else 0
        now = time.monotonic()
        if percent == self.last_percent and now - self.last_at < REPORT_EVERY_SECONDS:
            return
        self.last_percent, self.last_at = percent, now
        of_total = f" of {total / MIB:.1f}" if total else ""
        self.progress(percent, f"{received / MIB:.1f}{of_total} MiB received")


def run_import(job, progress):
    image = data.run_import(job, ProgressReport(progress))
    return {"image_id": str(image.pk), "size_bytes": image.size_bytes, "sha256": image.sha256}
