"""Admin lists: search, sort and paging, all done in SQL over a queryset the caller already scoped.

A list declares its columns; only a column declared sortable can be sorted on
(`?sort=name` or `?sort=-name` names a column, never a field), and the search
box (`?q=`) looks only in the fields the list names, or matches an id exactly.
One page is read with LIMIT/OFFSET, so a page costs the same statements
whatever the size of the table:

    listing = Listing(request, instances, columns=(
        Column("name", "Name", ("name",)),
        Column("project", "Project", ("project__domain__path", "project__name")),
        Column("size", "Size"),                      # not sortable
    ), default="name", search=("name", "project__name"))

`counted=False` (the audit log) reads one row more than a page instead of
counting the whole table: the pager then says "Older", not "page 3 of 70".
"""

import contextlib
import uuid
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import F, Q

SORT, SEARCH, PAGE = "sort", "q", "page"
SEARCH_MAX = 100
# Far past any page a person reads, and its OFFSET still fits PostgreSQL's bigint.
PAGE_MAX = 10**9


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    order_by: tuple = ()

    @property
    def sortable(self):
        return bool(self.order_by)


@dataclass(frozen=True)
class Header:
    """A column as the table head shows it: its label, the link that sorts by it, aria-sort."""

    column: Column
    url: str
    sorted: str  # "ascending", "descending" or "" (the value of aria-sort)

    @property
    def label(self):
        return self.column.label

    @property
    def sortable(self):
        return self.column.sortable


class Listing:
    def __init__(
        self, request, queryset, *, columns, default, search=(), per_page=50, counted=True, descending=False
    ):
        self.request = request
        self.columns = {column.key: column for column in columns}
        self.search_text = request.GET.get(SEARCH, "").strip()[:SEARCH_MAX]
        self.sort_key, self.descending = self._sort(default, descending)
        self.per_page = per_page
        queryset = self._searched(queryset, search)
        queryset = queryset.order_by(*self._ordering(queryset.model._meta.pk.name))
        self.page = self._paged(queryset, counted)

    def _sort(self, default, descending):
        wanted = self.request.GET.get(SORT, "")
        key = wanted.removeprefix("-")
        if key in self.columns and self.columns[key].sortable:
            return key, wanted.startswith("-")
        return default, descending

    def _searched(self, queryset, fields):
        if not self.search_text or not fields:
            return queryset
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": self.search_text})
        if queryset.model._meta.pk.get_internal_type() == "UUIDField":
            with contextlib.suppress(ValueError):
                condition |= Q(pk=uuid.UUID(self.search_text))
        return queryset.filter(condition)

    def _ordering(self, pk_name):
        """The sorted column's fields, then the primary key, so pages never overlap or skip a row."""
        fields = [*self.columns[self.sort_key].order_by, pk_name]
        return [
            F(field).desc(nulls_last=True) if self.descending else F(field).asc(nulls_last=True)
            for field in fields
        ]

    def _paged(self, queryset, counted):
        if counted:
            return Paginator(queryset, self.per_page).get_page(self.request.GET.get(PAGE))
        return UncountedPage(queryset, _page_number(self.request.GET.get(PAGE)), self.per_page)

    @property
    def rows(self):
        return self.page.object_list

    @property
    def headers(self):
        return [self._header(column) for column in self.columns.values()]

    def _header(self, column):
        if not column.sortable:
            return Header(column, "", "")
        current = column.key == self.sort_key
        flip = current and not self.descending
        sorted_as = ("descending" if self.descending else "ascending") if current else ""
        return Header(column, self.url(**{SORT: ("-" if flip else "") + column.key, PAGE: None}), sorted_as)

    def url(self, **changes):
        """This list's address with some parameters changed (None: removed)."""
        query = self.request.GET.copy()
        for key, value in changes.items():
            query.pop(key, None)
            if value is not None:
                query[key] = value
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else self.request.path

    @property
    def previous_url(self):
        return self.url(**{PAGE: str(self.page.number - 1)}) if self.page.has_previous() else ""

    @property
    def next_url(self):
        return self.url(**{PAGE: str(self.page.number + 1)}) if self.page.has_next() else ""

    @property
    def total(self):
        """How many rows match, when the list counts them (else None)."""
        paginator = getattr(self.page, "paginator", None)
        return paginator.count if paginator is not None else None

    @property
    def pages(self):
        paginator = getattr(self.page, "paginator", None)
        return paginator.num_pages if paginator is not None else None

    @property
    def kept_parameters(self):
        """The list's other parameters (filters, sort), for the search form to send again."""
        return [(key, value) for key, value in self.request.GET.items() if key not in (SEARCH, PAGE)]


def _page_number(text):
    try:
        return min(max(1, int(text or "1")), PAGE_MAX)
    except ValueError:
        return 1


class UncountedPage:
    """A page read with one row more than it shows, to know whether another follows."""

    def __init__(self, queryset, number, per_page):
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self.number = number
        self._has_next = len(rows) > per_page

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.has_next() or self.has_previous()

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)
