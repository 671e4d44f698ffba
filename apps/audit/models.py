"""One audit event per attempted change. No foreign keys: events outlive what they describe."""

from django.db import models


class AuditEvent(models.Model):
    SUCCESS, FAILURE = "success", "failure"

    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    interface = models.CharField(max_length=16)
    client_address = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=128, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_repr = models.CharField(max_length=255, blank=True, default="")
    # Where the object sits, so admins see their subtree and tenants their project.
    domain_path = models.CharField(max_length=2048, blank=True, default="")
    project_id = models.UUIDField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=8, choices=[(SUCCESS, SUCCESS), (FAILURE, FAILURE)])
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.CharField(max_length=1024, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(
                fields=["domain_path"],
                name="audit_domain_prefix",
                opclasses=["varchar_pattern_ops"],
            )
        ]

    def __str__(self):
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.outcome}"
