"""Charts for the portal pages, made from a series answer (apps/monitoring/series.py).

Each chart is drawn by monitoring/metrics-chart.js (the vendored frappe-charts)
from the data the page carries, and comes with the same figures as text: the
latest, average and peak of each line, and every point in a table, so a
screen reader (or a browser without JavaScript) reads what the picture shows.
Values are put in the chart's unit here: a share of a capacity in percent, or
bytes per second in the binary unit that suits the largest value.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from ..series import WINDOWS

PERCENT, RATE = "percent", "rate"
WINDOW_TITLES = {"hour": "Last hour", "day": "Last day", "week": "Last week"}
RATE_UNITS = ("B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s")
TIME_LABELS = {"hour": "%H:%M", "day": "%H:%M", "week": "%a %H:%M"}


@dataclass(frozen=True)
class ChartSpec:
    """A chart: `lines` are (series name, label); a PERCENT chart is of `of` (a series holding the whole
    at each point) or, without it, of the capacity the page gives."""

    name: str
    title: str
    lines: tuple
    kind: str
    of: str | None = None


NETWORK = ChartSpec(
    "network", "Network", (("net_rx_bytes_per_s", "received"), ("net_tx_bytes_per_s", "sent")), RATE
)
DISK_IO = ChartSpec(
    "disk-io", "Disk I/O", (("disk_read_bytes_per_s", "read"), ("disk_write_bytes_per_s", "written")), RATE
)
INSTANCE_CHARTS = (
    ChartSpec("cpu", "CPU, % of its vCPUs", (("cpu_millicores", "CPU"),), PERCENT),
    NETWORK,
    DISK_IO,
)
MEMORY = ChartSpec(
    "memory", "Memory in use, %", (("memory_used_mb", "memory"),), PERCENT, of="memory_total_mb"
)
DATA_DISK = ChartSpec(
    "data-disk", "Data disk used, %", (("disk_used_mb", "data disk"),), PERCENT, of="disk_total_mb"
)
HOST_CHARTS = (
    ChartSpec("cpu", "CPU, % of its CPUs", (("cpu_millicores", "CPU"),), PERCENT),
    MEMORY,
    DATA_DISK,
    NETWORK,
    DISK_IO,
)
# Every host's samples added up; CPU against the CPUs of the hosts up now.
CLOUD_CHARTS = (
    ChartSpec("cpu", "CPU, % of the CPUs of hosts up", (("cpu_millicores", "CPU"),), PERCENT),
    MEMORY,
    DATA_DISK,
    NETWORK,
)


def windows(current):
    """The windows a page offers: [(name, title, whether it is the one shown)]."""
    return [(name, WINDOW_TITLES[name], name == current) for name in WINDOWS]


def _rate_unit(values):
    largest = max((v for v in values if v is not None), default=0)
    power = 0
    while largest >= 1024 and power < len(RATE_UNITS) - 1:
        largest /= 1024
        power += 1
    return RATE_UNITS[power], 1024**power


def _scaled(spec, answer, capacity):
    """{label: [value or None]} in the chart's unit, and the unit."""
    series = answer["series"]
    if spec.kind == PERCENT:
        wholes = series[spec.of] if spec.of else [capacity] * len(answer["timestamps"])
        return {
            label: [
                round(v * 100 / whole, 1) if v is not None and whole else None
                for v, whole in zip(series[name], wholes, strict=True)
            ]
            for name, label in spec.lines
        }, "%"
    unit, divisor = _rate_unit([v for name, _ in spec.lines for v in series[name]])
    return {
        label: [None if v is None else round(v / divisor, 2) for v in series[name]]
        for name, label in spec.lines
    }, unit


def _summary(label, values):
    known = [v for v in values if v is not None]
    if not known:
        return {"label": label, "latest": None, "average": None, "peak": None}
    return {
        "label": label,
        "latest": known[-1],
        "average": round(sum(known) / len(known), 2),
        "peak": max(known),
    }


def chart(prefix, spec, answer, capacity=None):
    """What monitoring/chart.html draws: a chart's lines in its unit, their summary and every point."""
    lines, unit = _scaled(spec, answer, capacity)
    window = answer["window"]
    kept = [i for i in range(len(answer["timestamps"])) if any(v[i] is not None for v in lines.values())]
    moments = [datetime.fromtimestamp(answer["timestamps"][i], UTC) for i in kept]
    return {
        "id": f"{prefix}-{spec.name}",
        "data_id": f"{prefix}-{spec.name}-data",
        "title": spec.title,
        "unit": unit,
        "window_title": WINDOW_TITLES[window],
        "source": answer["source"],
        "points": len(kept),
        "summary": [_summary(label, values) for label, values in lines.items()],
        "labels": list(lines),
        "rows": [
            (moment, [lines[label][i] for label in lines]) for moment, i in zip(moments, kept, strict=True)
        ],
        "drawing": {
            "labels": [moment.strftime(TIME_LABELS[window]) for moment in moments],
            # A gap inside a kept point (one line missing) is drawn at zero: frappe-charts draws no gaps.
            "datasets": [
                {"name": label, "values": [values[i] or 0 for i in kept]} for label, values in lines.items()
            ],
            "unit": unit,
        },
    }


def charts(prefix, specs, answer, capacity=None):
    return [chart(prefix, spec, answer, capacity) for spec in specs]
