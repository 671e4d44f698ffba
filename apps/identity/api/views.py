"""Identity API: tokens, domains, projects, users, roles, rules, role assignments."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.actor import Actor
from apps.core.api.views import ServiceViewSet
from apps.core.errors import Conflict

from .. import selectors
from ..services import domains, projects, roles, tokens, users
from . import serializers as s


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.TokenRequestSerializer, responses={201: s.TokenSerializer})
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw, token = tokens.issue_token(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            client_address=request.client_address,
            project_id=data.validated_data.get("project_id"),
            domain_id=data.validated_data.get("domain_id"),
        )
        body = s.TokenSerializer(token).data
        body["token"] = raw
        return Response(body, status=status.HTTP_201_CREATED, headers={"X-Subject-Token": raw})


class CurrentTokenView(APIView):
    @extend_schema(responses={200: s.TokenSerializer})
    def get(self, request):
        return Response(s.TokenSerializer(self._token(request)).data)

    @extend_schema(responses={204: None})
    def delete(self, request):
        tokens.revoke(Actor.from_request(request), self._token(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _token(request):
        token = getattr(request.auth, "token", None)
        if token is None:
            raise Conflict("This request was not made with a token.", code="no_token")
        return token


class PasswordView(APIView):
    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        users.set_password(
            Actor.from_request(request),
            request.user,
            data.validated_data["new_password"],
            old_password=data.validated_data["old_password"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DomainViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.DomainSerializer
    update_serializer_class = s.DomainUpdateSerializer
    filterset_fields = ["parent", "enabled", "name", "depth"]

    def get_queryset(self):
        return selectors.domains_for(self.principal)

    def create(self, request):
        data = self.validated()
        parent = selectors.get_or_404(
            selectors.domains_for(self.principal), "parent domain", pk=data.get("parent_id")
        )
        domain = domains.create_domain(
            self.actor,
            parent=parent,
            name=data["name"],
            description=data.get("description", ""),
            enabled=data.get("enabled", True),
        )
        return Response(s.DomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        domain = self.get_object()
        domain = domains.update_domain(self.actor, domain, **self.validated(partial=True))
        return Response(s.DomainSerializer(domain).data)

    def destroy(self, request, pk=None):
        domains.delete_domain(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.ProjectSerializer
    update_serializer_class = s.ProjectUpdateSerializer
    filterset_fields = ["domain", "enabled", "name"]

    def get_queryset(self):
        return selectors.projects_for(self.principal)

    def create(self, request):
        data = self.validated()
        domain = selectors.get_or_404(selectors.domains_for(self.principal), "domain", pk=data["domain_id"])
        project = projects.create_project(
            self.actor,
            domain=domain,
            name=data["name"],
            description=data.get("description", ""),
            enabled=data.get("enabled", True),
        )
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        project = projects.update_project(self.actor, self.get_object(), **self.validated(partial=True))
        return Response(s.ProjectSerializer(project).data)

    def destroy(self, request, pk=None):
        projects.delete_project(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ProjectMoveSerializer, responses={200: s.ProjectSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        project = self.get_object()
        data = self.validated(s.ProjectMoveSerializer)
        target = selectors.get_or_404(selectors.domains_for(self.principal), "domain", pk=data["domain_id"])
        project = projects.move_project(self.actor, project, target)
        return Response(s.ProjectSerializer(project).data)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.UserSerializer
    update_serializer_class = s.UserUpdateSerializer
    filterset_fields = ["domain", "is_active", "username", "source"]

    def get_queryset(self):
        return selectors.users_for(self.principal)

    def create(self, request):
        data = self.validated()
        domain = selectors.get_or_404(selectors.domains_for(self.principal), "domain", pk=data["domain_id"])
        user = users.create_user(
            self.actor,
            domain=domain,
            username=data["username"],
            password=data.get("password"),
            full_name=data.get("full_name", ""),
            email=data.get("email", ""),
        )
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = dict(self.validated(partial=True))
        password = data.pop("password", None)
        if data:
            user = users.update_user(self.actor, user, **data)
        if password is not None:
            user = users.set_password(self.actor, user, password)
        return Response(s.UserSerializer(user).data)

    def destroy(self, request, pk=None):
        users.delete_user(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.RoleSerializer
    filterset_fields = ["name"]

    def get_queryset(self):
        return selectors.roles()

    def create(self, request):
        data = self.validated()
        role = roles.create_role(self.actor, name=data["name"], description=data.get("description", ""))
        return Response(s.RoleSerializer(role).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        roles.delete_role(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.RuleSerializer
    filterset_fields = ["role__name", "action"]

    def get_queryset(self):
        return selectors.rules()

    def create(self, request):
        data = self.validated()
        rule = roles.add_rule(self.actor, role=data["role"], action_pattern=data["action"])
        return Response(s.RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        roles.remove_rule(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleAssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.RoleAssignmentSerializer
    filterset_fields = ["user", "role__name", "domain", "project"]

    def get_queryset(self):
        return selectors.assignments_for(self.principal)

    def create(self, request):
        data = self.validated()
        user = selectors.get_or_404(selectors.users_for(self.principal), "user", pk=data["user_id"])
        domain = project = None
        if data.get("domain_id"):
            domain = selectors.get_or_404(
                selectors.domains_for(self.principal), "domain", pk=data["domain_id"]
            )
        else:
            project = selectors.get_or_404(
                selectors.projects_for(self.principal), "project", pk=data["project_id"]
            )
        assignment = roles.assign_role(
            self.actor, user=user, role=data["role"], domain=domain, project=project
        )
        return Response(s.RoleAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        roles.unassign_role(self.actor, self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
