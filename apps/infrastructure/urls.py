"""Admin portal pages of infrastructure."""

from django.urls import path

from .web import views

app_name = "infrastructure"

urlpatterns = [
    path("admin-portal/hosts/", views.host_list, name="host-list"),
]
