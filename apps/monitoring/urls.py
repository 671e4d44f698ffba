"""Portal pages of monitoring."""

from django.urls import path

from .web import views

app_name = "monitoring"

urlpatterns = [
    path("admin-portal/monitoring/", views.overview, name="overview"),
]
