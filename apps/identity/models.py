"""Identity data: the domain tree, projects, users, roles, rules, role assignments, tokens."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q

from apps.core.tree import PLATFORM, Target, ancestor_ids


class Domain(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # "/<root hex>/<child hex>/…/<own hex>/": subtree queries are prefix matches.
    path = models.CharField(max_length=2048, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="domain_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="domain_single_root"
            ),
        ]
        indexes = [
            models.Index(fields=["path"], name="domain_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["path"], name="domain_disabled", condition=Q(enabled=False)),
        ]

    def __str__(self):
        return self.name

    @property
    def is_root(self):
        return self.parent_id is None

    @property
    def ancestor_ids(self):
        """Ids from ROOT down to this domain, itself included."""
        return ancestor_ids(self.path)

    def target(self):
        """Reading the domain and acting inside it."""
        return Target(self.path)

    def admin_target(self):
        """Changing the domain itself is decided one level up: never by its own admins."""
        return Target(self.path.rsplit("/", 2)[0] + "/") if self.parent_id else PLATFORM


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True, default="")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="projects")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="project_unique_name_in_domain")
        ]

    def __str__(self):
        return self.name

    def target(self):
        """Reading the project and acting on the resources inside it."""
        return Target(self.domain.path, self.id)

    def admin_target(self):
        """Changing the project itself (enable, delete, move, quotas) is for its domain's admins."""
        return Target(self.domain.path)


class UserManager(BaseUserManager):
    def get_by_natural_key(self, username):
        return self.get(username=username)


class User(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150, unique=True)
    full_name = models.CharField(max_length=150, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="users")
    is_active = models.BooleanField(default=True)
    source = models.CharField(max_length=16, default="local")
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.username

    def target(self):
        return Target(self.domain.path)


class Role(models.Model):
    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Rule(models.Model):
    """A role may perform the actions matching `action`: a glob over action names or `@kind`."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="rules")
    action = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role__name", "action"]
        constraints = [models.UniqueConstraint(fields=["role", "action"], name="rule_unique")]

    def __str__(self):
        return f"{self.role.name}: {self.action}"


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(domain__isnull=True) ^ Q(project__isnull=True)),
                name="assignment_on_domain_xor_project",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "domain"],
                condition=Q(domain__isnull=False),
                name="assignment_unique_on_domain",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "project"],
                condition=Q(project__isnull=False),
                name="assignment_unique_on_project",
            ),
        ]

    def __str__(self):
        return f"{self.user} has {self.role} on {self.domain or self.project}"

    def target(self):
        """Where the assignment applies, which is also where granting it is decided."""
        if self.project_id:
            return self.project.target()
        return self.domain.target()


class Token(models.Model):
    """An API token; only the SHA-256 of the secret is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    scope_project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scope_domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    client_address = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]


class LoginFailure(models.Model):
    """Failed-login counter for one account or one address, shared by every controller."""

    key = models.CharField(max_length=200, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()


class ApiKey(models.Model):
    """A user's credential for signed requests on one project.

    The secret is stored sealed (apps.identity.apikeys.encryption): the server
    needs it back to check HMAC signatures, so it cannot be a one-way hash.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_key = models.CharField(max_length=32, unique=True)
    sealed_secret = models.BinaryField()
    name = models.CharField(max_length=64, blank=True, default="")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    enabled = models.BooleanField(default=True)
    # Set when an administrator disabled the key: then only an administrator may enable it again.
    disabled_by_admin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name or self.access_key


class ApiKeyNonce(models.Model):
    """A nonce seen on a signed request, kept while a replay of it could still be in its time window.

    Used when the nonce store is PostgreSQL rather than Redis.
    """

    key = models.CharField(max_length=200, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)
