"""Serializers of the identity API: shapes and field validation only, no business rules."""

from rest_framework import serializers

from apps.core.api.serializers import ModelSerializer

from ..models import Domain, Project, Role, RoleAssignment, Rule, User


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    project_id = serializers.UUIDField(required=False, allow_null=True)
    domain_id = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs.get("project_id") and attrs.get("domain_id"):
            raise serializers.ValidationError("Scope a token to a project or a domain, not both.")
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(required=False)
    expires_at = serializers.DateTimeField()
    user_id = serializers.UUIDField(source="user.id")
    username = serializers.CharField(source="user.username")
    project_id = serializers.UUIDField(source="scope_project_id", allow_null=True)
    domain_id = serializers.UUIDField(source="scope_domain_id", allow_null=True)


class DomainSerializer(ModelSerializer):
    parent_id = serializers.UUIDField(allow_null=True, required=False)

    class Meta:
        model = Domain
        fields = ["id", "name", "description", "parent_id", "depth", "enabled", "created_at"]
        read_only_fields = ["id", "depth", "created_at"]


class DomainUpdateSerializer(ModelSerializer):
    class Meta:
        model = Domain
        fields = ["name", "description", "enabled"]
        extra_kwargs = {f: {"required": False} for f in fields}


class ProjectSerializer(ModelSerializer):
    domain_id = serializers.UUIDField()

    class Meta:
        model = Project
        fields = ["id", "name", "description", "domain_id", "enabled", "created_at"]
        read_only_fields = ["id", "created_at"]


class ProjectUpdateSerializer(ModelSerializer):
    class Meta:
        model = Project
        fields = ["name", "description", "enabled"]
        extra_kwargs = {f: {"required": False} for f in fields}


class ProjectMoveSerializer(serializers.Serializer):
    domain_id = serializers.UUIDField()


class UserSerializer(ModelSerializer):
    domain_id = serializers.UUIDField()
    password = serializers.CharField(write_only=True, required=False, trim_whitespace=False, max_length=4096)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            "email",
            "domain_id",
            "is_active",
            "source",
            "password",
            "created_at",
            "last_login",
        ]
        read_only_fields = ["id", "is_active", "source", "created_at", "last_login"]


class UserUpdateSerializer(ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, trim_whitespace=False, max_length=4096)

    class Meta:
        model = User
        fields = ["full_name", "email", "is_active", "password"]
        extra_kwargs = {f: {"required": False} for f in fields}


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, max_length=4096)
    new_password = serializers.CharField(trim_whitespace=False, max_length=4096)


class RuleSerializer(ModelSerializer):
    role = serializers.SlugRelatedField(slug_field="name", queryset=Role.objects.all())

    class Meta:
        model = Rule
        fields = ["id", "role", "action", "created_at"]
        read_only_fields = ["id", "created_at"]


class RoleSerializer(ModelSerializer):
    rules = serializers.SlugRelatedField(slug_field="action", many=True, read_only=True)

    class Meta:
        model = Role
        fields = ["id", "name", "description", "rules"]
        read_only_fields = ["id", "rules"]


class RoleAssignmentSerializer(ModelSerializer):
    user_id = serializers.UUIDField()
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.SlugRelatedField(slug_field="name", queryset=Role.objects.all())
    domain_id = serializers.UUIDField(required=False, allow_null=True)
    project_id = serializers.UUIDField(required=False, allow_null=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "user_id", "username", "role", "domain_id", "project_id", "created_at"]
        read_only_fields = ["id", "username", "created_at"]

    def validate(self, attrs):
        if bool(attrs.get("domain_id")) == bool(attrs.get("project_id")):
            raise serializers.ValidationError("Give either domain_id or project_id.")
        return attrs
