"""Admin portal pages of infrastructure: hosts (adding one, its enrollment) and zones."""

from django.urls import path

from .web import enrollment, views, zones

app_name = "infrastructure"

HOST = "admin-portal/hosts/<uuid:host_id>/"
ZONES = "admin-portal/zones/"
ZONE = f"{ZONES}<uuid:zone_id>/"

urlpatterns = [
    path("admin-portal/hosts/", views.host_list, name="host-list"),
    path(HOST, views.host_detail, name="host-detail"),
    path(f"{HOST}action/", views.host_action, name="host-action"),
    path("admin-portal/hosts/new/", enrollment.host_add, name="host-add"),
    path(f"{HOST}enrollment/", enrollment.host_enrollment, name="host-enrollment"),
    path(f"{HOST}token/", enrollment.host_token, name="host-token"),
    path(ZONES, zones.zone_list, name="zone-list"),
    path(f"{ZONES}new/", zones.zone_create, name="zone-create"),
    path(ZONE, zones.zone_detail, name="zone-detail"),
    path(f"{ZONE}edit/", zones.zone_update, name="zone-update"),
    path(f"{ZONE}delete/", zones.zone_delete, name="zone-delete"),
]
