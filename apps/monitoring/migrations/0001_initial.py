"""Alerts, scrape tokens, rollup progress, and the six partitioned sample tables (written in SQL:
Django's migrations cannot create a partitioned table)."""

import uuid

from django.db import migrations, models

SAMPLE_TABLES = [
    "CREATE TABLE monitoring_instance_sample_raw (instance_id uuid NOT NULL, at timestamptz NOT NULL, cpu_millicores integer NOT NULL, memory_used_mb integer NOT NULL, disk_read_bytes_per_s bigint NOT NULL, disk_write_bytes_per_s bigint NOT NULL, disk_read_ops_per_s integer NOT NULL, disk_write_ops_per_s integer NOT NULL, net_rx_bytes_per_s bigint NOT NULL, net_tx_bytes_per_s bigint NOT NULL, PRIMARY KEY (instance_id, at)) PARTITION BY RANGE (at)",
    "CREATE INDEX monitoring_instance_sample_raw_at ON monitoring_instance_sample_raw USING brin (at)",
    "CREATE TABLE monitoring_instance_sample_5m (instance_id uuid NOT NULL, at timestamptz NOT NULL, samples integer NOT NULL, cpu_millicores integer NOT NULL, memory_used_mb integer NOT NULL, disk_read_bytes_per_s bigint NOT NULL, disk_write_bytes_per_s bigint NOT NULL, disk_read_ops_per_s integer NOT NULL, disk_write_ops_per_s integer NOT NULL, net_rx_bytes_per_s bigint NOT NULL, net_tx_bytes_per_s bigint NOT NULL, PRIMARY KEY (instance_id, at)) PARTITION BY RANGE (at)",
    "CREATE INDEX monitoring_instance_sample_5m_at ON monitoring_instance_sample_5m USING brin (at)",
    "CREATE TABLE monitoring_instance_sample_1h (instance_id uuid NOT NULL, at timestamptz NOT NULL, samples integer NOT NULL, cpu_millicores integer NOT NULL, memory_used_mb integer NOT NULL, disk_read_bytes_per_s bigint NOT NULL, disk_write_bytes_per_s bigint NOT NULL, disk_read_ops_per_s integer NOT NULL, disk_write_ops_per_s integer NOT NULL, net_rx_bytes_per_s bigint NOT NULL, net_tx_bytes_per_s bigint NOT NULL, PRIMARY KEY (instance_id, at)) PARTITION BY RANGE (at)",
    "CREATE INDEX monitoring_instance_sample_1h_at ON monitoring_instance_sample_1h USING brin (at)",
    "CREATE TABLE monitoring_host_sample_raw (host_id uuid NOT NULL, at timestamptz NOT NULL, cpu_millicores integer NOT NULL, memory_used_mb integer NOT NULL, memory_total_mb integer NOT NULL, disk_used_mb integer NOT NULL, disk_total_mb integer NOT NULL, disk_read_bytes_per_s bigint NOT NULL, disk_write_bytes_per_s bigint NOT NULL, net_rx_bytes_per_s bigint NOT NULL, net_tx_bytes_per_s bigint NOT NULL, PRIMARY KEY (host_id, at)) PARTITION BY RANGE (at)",
    "CREATE INDEX monitoring_host_sample_raw_at ON monitoring_host_sample_raw USING brin (at)",
    "CREATE TABLE monitoring_host_sample_5m (host_id uuid NOT NULL, at timestamptz NOT NULL, samples integer NOT NULL, cpu_millicores integer NOT NULL, memory_used_mb integer NOT NULL, memory_total_mb integer NOT NULL, disk_used_mb integer NOT NULL, disk_total_mb integer NOT NULL, disk_read_bytes_per_s bigint NOT NULL, disk_write_bytes_per_s bigint NOT NULL, net_rx_bytes_per_s bigint NOT NULL, net_tx_bytes_per_s bigint NOT NULL, PRIMARY KEY (host_id, at)) PARTITION BY RANGE (at)",
    "CREATE INDEX monitoring_host_sample_5m_at ON monitoring_host_sample_5m USING brin (at)",
    "CREATE TABLE monitoring_host_sample_1h (host_id uuid NOT NULL, at timestamptz NOT NULL, samples integer NOT NULL, cpu_millicores integer NOT NULL, memory_used_mb integer NOT NULL, memory_total_mb integer NOT NULL, disk_used_mb integer NOT NULL, disk_total_mb integer NOT NULL, disk_read_bytes_per_s bigint NOT NULL, disk_write_bytes_per_s bigint NOT NULL, net_rx_bytes_per_s bigint NOT NULL, net_tx_bytes_per_s bigint NOT NULL, PRIMARY KEY (host_id, at)) PARTITION BY RANGE (at)",
    "CREATE INDEX monitoring_host_sample_1h_at ON monitoring_host_sample_1h USING brin (at)",
]
DROP_SAMPLE_TABLES = [
    "DROP TABLE monitoring_instance_sample_raw",
    "DROP TABLE monitoring_instance_sample_5m",
    "DROP TABLE monitoring_instance_sample_1h",
    "DROP TABLE monitoring_host_sample_raw",
    "DROP TABLE monitoring_host_sample_5m",
    "DROP TABLE monitoring_host_sample_1h",
]


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Alert",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(choices=[("host_down", "host_down"), ("host_disk_nearly_full", "host_disk_nearly_full"), ("job_failure_rate", "job_failure_rate")], max_length=32)),
                ("subject", models.CharField(max_length=64)),
                ("subject_name", models.CharField(blank=True, default="", max_length=255)),
                ("message", models.CharField(max_length=1024)),
                ("details", models.JSONField(blank=True, default=dict)),
                ("opened_at", models.DateTimeField()),
                ("last_seen_at", models.DateTimeField()),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("notified_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"ordering": ["-opened_at"]},
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(condition=models.Q(("resolved_at__isnull", True)), fields=("kind", "subject"), name="alert_one_open"),
        ),
        migrations.CreateModel(
            name="ScrapeToken",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=64, unique=True)),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.CreateModel(
            name="RollupProgress",
            fields=[
                ("target", models.CharField(max_length=63, primary_key=True, serialize=False)),
                ("done_until", models.DateTimeField()),
            ],
        ),
        migrations.RunSQL(SAMPLE_TABLES, DROP_SAMPLE_TABLES),
    ]
