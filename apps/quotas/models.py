"""Limits, usage and the claims behind the usage.

One QuotaUsage row per (project, resource) and per (domain, resource). A row
with a limit keeps `used` (a domain's: the sum over its whole subtree) up to date
at every claim, so checking a claim never sums anything; a row without a limit
counts nothing and its usage is read from the claims (apps/quotas/services.py).
"""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

UNLIMITED = -1


class QuotaUsage(models.Model):
    domain = models.ForeignKey(
        "identity.Domain", null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    project = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    resource = models.CharField(max_length=64)
    limit = models.BigIntegerField(default=UNLIMITED)
    used = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["resource"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(domain__isnull=True) ^ Q(project__isnull=True)),
                name="quota_on_domain_xor_project",
            ),
            models.UniqueConstraint(
                fields=["domain", "resource"],
                condition=Q(domain__isnull=False),
                name="quota_unique_domain_resource",
            ),
            models.UniqueConstraint(
                fields=["project", "resource"],
                condition=Q(project__isnull=False),
                name="quota_unique_project_resource",
            ),
            models.CheckConstraint(condition=Q(limit__gte=UNLIMITED), name="quota_limit_valid"),
            models.CheckConstraint(condition=Q(used__gte=0), name="quota_used_not_negative"),
        ]

    @property
    def unlimited(self):
        return self.limit == UNLIMITED

    def allows(self, amount):
        return self.unlimited or self.used + amount <= self.limit


class DefaultQuota(models.Model):
    """The limit a new project starts with, per resource."""

    resource = models.CharField(max_length=64, primary_key=True)
    limit = models.BigIntegerField(default=UNLIMITED)


class QuotaClaim(models.Model):
    """An amount of a resource held by one object of a project (an instance, an image…)."""

    project = models.ForeignKey("identity.Project", on_delete=models.PROTECT, related_name="quota_claims")
    resource = models.CharField(max_length=64)
    amount = models.BigIntegerField()
    holder_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    holder_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["holder_type", "holder_id", "resource"], name="claim_unique_per_holder"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="claim_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["project", "resource"], name="claim_project_resource")]
