"""Every URL pattern of the project, read from Django's resolver, for tests that must cover all routes.

A `Route` is one leaf pattern with the chain of includes above it: its key
(the namespaced URL name, or the route text when it has no name), the keyword
arguments it takes, the HTTP methods its view answers, and how to build a URL
for given arguments. Routes that apps add later are found without any change here.
"""

from dataclasses import dataclass
from urllib.parse import quote

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.regex_helper import normalize
from rest_framework.views import APIView

WRITE_METHODS = ("post", "put", "patch", "delete")
METHODS = ("get", *WRITE_METHODS)
# DRF's format-suffix twin of a route (`/projects/<pk>.json`) adds this; it identifies nothing.
FORMAT_KWARG = "format"


@dataclass(frozen=True)
class Route:
    key: str
    text: str
    regex: str
    kwargs: frozenset
    callback: object
    converters: dict
    urlconf: str | None = None

    @property
    def label(self):
        """The key, marked when this is the format-suffix twin, so both show up as test ids."""
        return f"{self.key}.{FORMAT_KWARG}" if FORMAT_KWARG in self.kwargs else self.key

    @property
    def identifier_kwargs(self):
        return self.kwargs - {FORMAT_KWARG}

    @property
    def methods(self):
        """The methods the view answers, or None when a plain function view does not say."""
        actions = getattr(self.callback, "actions", None)
        if actions is not None:
            return tuple(m for m in METHODS if m in actions)
        view_class = getattr(self.callback, "view_class", None)
        if view_class is not None:
            return tuple(m for m in METHODS if hasattr(view_class, m))
        return None

    @property
    def is_rest(self):
        """A DRF view: it takes JSON bodies (web pages take forms)."""
        view_class = getattr(self.callback, "cls", None)
        return view_class is not None and issubclass(view_class, APIView)

    def url(self, kwargs):
        """This route's URL for `kwargs` (plus `format=json` on a format-suffix twin)."""
        values = dict(kwargs)
        if FORMAT_KWARG in self.kwargs:
            values.setdefault(FORMAT_KWARG, "json")
        if set(values) != set(self.kwargs):
            raise ValueError(f"{self.label} takes {sorted(self.kwargs)}, got {sorted(values)}")
        filled = {name: self._to_url(name, value) for name, value in values.items()}
        for template, params in normalize(self.regex):
            if set(params) == set(filled):
                url = "/" + template % filled
                if resolve(url, urlconf=self.urlconf).func is self.callback:
                    return url
        raise ValueError(f"cannot build a URL of {self.label} from {filled}")

    def _to_url(self, name, value):
        converter = self.converters.get(name)
        return quote(converter.to_url(value) if converter else str(value), safe="")


def all_routes(urlconf=None):
    return list(_walk(get_resolver(urlconf), (), (), urlconf))


def _walk(resolver, chain, namespaces, urlconf):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, (*chain, entry.pattern), inner, urlconf)
        elif isinstance(entry, URLPattern):
            yield _route((*chain, entry.pattern), namespaces, entry, urlconf)


def _route(chain, namespaces, leaf, urlconf):
    text = "".join(str(pattern) for pattern in chain)
    regex = "".join(pattern.regex.pattern.removeprefix("^") for pattern in chain)
    converters = {}
    kwargs = set()
    for pattern in chain:
        converters.update(getattr(pattern, "converters", {}))
        kwargs.update(pattern.regex.groupindex)
    key = ":".join((*namespaces, leaf.name)) if leaf.name else text
    return Route(key, text, regex, frozenset(kwargs), leaf.callback, converters, urlconf)


def detail_routes(urlconf=None):
    """Routes that take an object identifier: any keyword argument but the format suffix."""
    return [route for route in all_routes(urlconf) if route.identifier_kwargs]
