"""Admin portal pages of infrastructure."""

from django.urls import path

from .web import views

app_name = "infrastructure"

HOST = "admin-portal/hosts/<uuid:host_id>/"

urlpatterns = [
    path("admin-portal/hosts/", views.host_list, name="host-list"),
    path(HOST, views.host_detail, name="host-detail"),
    path(f"{HOST}action/", views.host_action, name="host-action"),
    path(f"{HOST}fence/", views.host_fence, name="host-fence"),
]
