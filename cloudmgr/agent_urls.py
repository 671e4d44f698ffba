"""The agents' endpoint, mounted at agent.protocol.AGENT_API_PREFIX: each app's routes for its hosts."""

from apps.images.agent_api import urlpatterns as image_routes
from apps.infrastructure.agent_api.urls import urlpatterns as host_routes

app_name = "agent"

urlpatterns = [*host_routes, *image_routes]
