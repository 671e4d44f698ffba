"""What every networks viewset shares: the project a create is for, and who sees infrastructure facts."""

from apps.core.api.views import ServiceViewSet
from apps.core.errors import ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.selectors import visible_project
from apps.infrastructure.selectors import zones_for

from ..policy_actions import NETWORK_INFRASTRUCTURE_READ


class NetworksViewSet(ServiceViewSet):
    def get_serializer_context(self):
        infrastructure = self.request is not None and self.principal.can(
            NETWORK_INFRASTRUCTURE_READ, PLATFORM
        )
        return {**super().get_serializer_context(), "infrastructure": infrastructure}

    def shown(self, obj, serializer_class=None):
        return (serializer_class or self.serializer_class)(obj, context=self.get_serializer_context()).data

    def project_for(self, project_id):
        """The project named in the body, or the one the token is scoped to."""
        if project_id is None:
            if self.principal.scope_project is None:
                raise ValidationFailed("Say which project: project_id.", code="project_required")
            return self.principal.scope_project
        return visible_project(self.principal, project_id)

    def zone_for(self, zone_id):
        zone = zones_for(self.principal).filter(pk=zone_id).first()
        if zone is None:
            raise ValidationFailed(f"No zone {zone_id}.", code="zone_not_found")
        return zone
