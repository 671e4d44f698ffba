"""Other apps add pages and cards through the registry, without touching the portal."""

import pytest
from django.urls import reverse

from apps.core.policy import Principal
from apps.core.web import extensions

from .conftest import signed_in


@pytest.fixture
def registry(monkeypatch):
    """The registry as it is, restored after the test."""
    monkeypatch.setattr(extensions, "_nav", dict(extensions._nav))
    monkeypatch.setattr(extensions, "_cards", dict(extensions._cards))
    return extensions


def test_a_card_registered_by_another_app_appears_on_the_cloud_overview(registry, admin_client):
    registry.register_card(
        registry.ADMIN,
        "hosts",
        title="Hosts",
        context=lambda request, project: {"rows": [("Up", 3), ("Down", 1)]},
        order=20,
    )
    html = admin_client.get(reverse("portal:admin-overview")).content.decode()
    assert '<h2 id="card-hosts">Hosts</h2>' in html
    assert "<dt>Down</dt><dd>1</dd>" in html


def test_a_card_whose_context_is_none_is_left_out(registry, admin_client):
    registry.register_card(
        registry.ADMIN, "capacity", title="Capacity", context=lambda request, project: None
    )
    assert b"Capacity" not in admin_client.get(reverse("portal:admin-overview")).content


def test_a_dashboard_page_registered_by_another_app_gets_a_nav_entry_for_the_current_project(
    registry, tenant
):
    registry.register_nav(registry.DASHBOARD, "Keypairs", "portal:project-audit", order=40)
    registry.register_nav(
        registry.DASHBOARD, "Hidden", "portal:project-members", visible=lambda principal, project: False
    )
    html = signed_in(tenant.member).get(reverse("portal:project-overview", args=[tenant.project.pk])).content
    assert f'href="/dashboard/projects/{tenant.project.pk}/activity/">Keypairs</a>'.encode() in html
    assert b">Hidden</a>" not in html


def test_the_dashboard_shows_no_entry_for_a_page_no_app_has_registered(tenant):
    html = signed_in(tenant.member).get(reverse("portal:project-overview", args=[tenant.project.pk])).content
    labels = [
        entry.label
        for entry, _ in extensions.nav_entries(extensions.DASHBOARD, Principal(tenant.member), tenant.project)
    ]
    sidebar = html.decode().split('class="sidebar"', 1)[1].split("</nav>", 1)[0]
    assert sidebar.count("<li>") == len(labels)
    assert "coming soon" not in html.decode().lower()


def test_an_unknown_area_is_refused_at_registration():
    with pytest.raises(ValueError, match="unknown portal area"):
        extensions.register_nav("sidebar", "X", "portal:home")
