"""Find every form the portal shows: crawl its pages as a signed-in user and read their <form>s.

A route's arguments are filled with the ids of a fuzzing world
(apps/core/tests/fuzzing/world.py); each page that answers 200 is parsed, and
each form it holds is kept once, by its action and fields, with the values the
page offered (hidden inputs, buttons, select options) so a fuzzer can start from them.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.urls import URLResolver, get_resolver, reverse

# Route argument -> the world's dictionary of ids for it.
ARGUMENTS = {
    "project_id": "projects",
    "domain_id": "domains",
    "user_id": "users",
    "image_id": "images",
    "instance_id": "instances",
    "host_id": "hosts",
    "keypair_id": "keypairs",
    "group_id": "affinity_groups",
    "role_id": "roles",
    "rule_id": "rules",
    "assignment_id": "role_assignments",
    "event_id": "audit_events",
    "job_id": "jobs",
    # The networks pages' (the first rule is one of the first group's; the network and subnet are the
    # project's own, and the floating IP reaches a NIC, so that each confirmation has something to say).
    "network_id": "deletable_networks",
    "subnet_id": "deletable_subnets",
    "security_group_id": "security_groups",
    "security_rule_id": "security_group_rules",
    "floating_id": "associated_floating_ips",
    "vlan_pool_id": "spare_vlan_pools",
    "public_pool_id": "spare_public_pools",
}
NOT_CRAWLED = ("api/", "internal/", "healthz", "logout/", "login/")


@dataclass
class Form:
    action: str
    method: str
    # Field name -> values the page offered ("" when it offered none).
    fields: dict = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self, page):
        super().__init__()
        self.page = page
        self.forms = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append(Form(attrs.get("action") or self.page, method))
        elif not self.forms or "name" not in attrs:
            if tag == "option" and self._select is not None:
                self.forms[-1].fields[self._select].append(attrs.get("value", ""))
            return
        elif tag in ("input", "textarea", "button"):
            self.forms[-1].fields.setdefault(attrs["name"], []).append(attrs.get("value", ""))
        elif tag == "select":
            self._select = attrs["name"]
            self.forms[-1].fields.setdefault(self._select, [])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _routes(pattern.url_patterns, namespace)
        elif pattern.name:
            yield f"{prefix}{pattern.name}", getattr(pattern.pattern, "converters", {}).keys()


def page_urls(ids):
    """Every portal page whose arguments the world can fill."""
    urls = set()
    for name, arguments in _routes(get_resolver().url_patterns):
        kwargs = {}
        for argument in arguments:
            values = ids.get(ARGUMENTS.get(argument, ""), [])
            if not values:
                break
            kwargs[argument] = values[0]
        else:
            if name.startswith(("api:", "agent:")):
                continue
            url = reverse(name, kwargs=kwargs)
            if not url.lstrip("/").startswith(NOT_CRAWLED):
                urls.add(url)
    return sorted(urls)


def forms_on(client, urls):
    """The forms of those pages, each once (by action, method and fields)."""
    found = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _FormParser(url)
        parser.feed(response.content.decode())
        for form in parser.forms:
            form.fields.pop("csrfmiddlewaretoken", None)
            found.setdefault((form.action, form.method, tuple(sorted(form.fields))), form)
    return list(found.values())
