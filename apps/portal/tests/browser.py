"""Browser fixtures: Debian's Chromium, driven by Playwright, against pytest-django's live server.

The browser is kept offline by force: every request to an address outside the
loopback range is aborted and recorded, and a test that made one fails. So
does a test during which a page threw a JavaScript error.
"""

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from apps.identity.tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
NETWORK_SCHEMES = ("http", "https", "ws", "wss", "ftp")


def is_loopback(url):
    """True for a URL that stays on this machine (or needs no network: data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme not in NETWORK_SCHEMES:
        return True
    host = (parts.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Browsing:
    """Pages of one live server; every context opened here shares the offline guard."""

    def __init__(self, chromium, base_url):
        self.chromium = chromium
        self.base_url = base_url
        self.offsite = []
        self.page_errors = []
        self.contexts = []

    def _guard(self, route):
        url = route.request.url
        if is_loopback(url):
            route.continue_()
        else:
            self.offsite.append(url)
            route.abort("blockedbyclient")

    def new_page(self, viewport=LAPTOP, javascript=True):
        context = self.chromium.new_context(
            viewport=viewport, base_url=self.base_url, java_script_enabled=javascript
        )
        context.set_default_timeout(10_000)
        context.route("**/*", self._guard)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return page

    def signed_in_page(self, user, password=PASSWORD, viewport=LAPTOP, javascript=True):
        """A page signed in through the real login form (`javascript=False`: a browser without scripts)."""
        page = self.new_page(viewport, javascript)
        sign_in(page, user.username, password)
        return page

    def close(self):
        for context in self.contexts:
            context.close()


def sign_in(page, username, password=PASSWORD):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


# Elements sticking out of the window, except inside a box that scrolls or clips sideways.
_OVERFLOWING = """() => {
  const contained = e => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !contained(e))
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""));
}"""


def overflowing(page):
    """What sticks out of the window sideways (nothing on a page that fits its width)."""
    found = page.evaluate(_OVERFLOWING)
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
        found.append("the page scrolls sideways")
    return found


def screenshot(page, name):
    """Save a full-page screenshot into test-artifacts/screenshots/<name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browsing(chromium, live_server):
    session = Browsing(chromium, live_server.url)
    yield session
    session.close()
    assert not session.offsite, f"the pages asked for addresses off this machine: {session.offsite}"
    assert not session.page_errors, f"the pages threw JavaScript errors: {session.page_errors}"
