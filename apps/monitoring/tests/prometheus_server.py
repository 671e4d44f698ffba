"""Debian's Prometheus server for tests: its own configuration, storage and port, stopped afterwards."""

import json
import signal
import subprocess
import urllib.request
from pathlib import Path

from agent import protocol
from apps.core.tests.controllers import wait_until

READY_SECONDS = 60


class PrometheusServer:
    """`prometheus` scraping the given agents every second, each target labelled with its host's name."""

    def __init__(self, directory, port, targets):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        static_configs = [
            {"targets": [f"127.0.0.1:{target_port}"], "labels": {protocol.PROMETHEUS_HOST_LABEL: host}}
            for host, target_port in targets.items()
        ]
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "cloudmgr-agents", "static_configs": static_configs}],
        }
        # JSON is YAML: no YAML library needed to write the configuration.
        (directory / "prometheus.yml").write_text(json.dumps(config))
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = directory / "prometheus.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={directory / 'prometheus.yml'}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self.ready, READY_SECONDS, "Prometheus to be ready")

    def ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:  # noqa: S310 (our own)
                return answer.status == 200
        except OSError:
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
