"""cloudmgr's nftables tables in one namespace: replaced atomically, compared with what was applied.

The rendered text declares, deletes and re-creates each table in one ``nft -f``
transaction: a failing text applies nothing, and no other table is touched. What
the kernel lists for a table (``nft -s``: no counters) after an apply is the
reference the audit compares with; when the agent has applied nothing yet (just
started, audit without repair), the reference comes from applying the same text
in a scratch namespace.
"""

import difflib
import hashlib
import secrets

from ..network_protocol import ObservedTable
from .commands import Netns


def table_listing(netns, family, name):
    """``nft -s list table`` text, or None when the table does not exist."""
    text = netns.run("nft", "-s", "list", "table", family, name, check=False)
    return text or None


def count_rules(listing):
    """Rules in a listing: lines inside chains that are not the chain's type/policy line."""
    count, in_chain = 0, False
    for line in (listing or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("chain "):
            in_chain = True
        elif stripped == "}":
            in_chain = False
        elif in_chain and stripped and not stripped.startswith("type "):
            count += 1
    return count


def _difference(before, after):
    lines = difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(), lineterm="", n=0)
    changed = [line.strip() for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    return "; ".join(changed[:6])[:400]


class OwnedTables:
    def __init__(self, netns, tables, label):
        self.netns = netns
        self.tables = tuple(tables)  # ((family, name), ...)
        self.label = label
        self._applied = {}  # sha256 of the text -> listings after applying it

    def listings(self):
        return {table: table_listing(self.netns, *table) for table in self.tables}

    def converge(self, drift, text):
        key = hashlib.sha256(text.encode()).hexdigest()
        current = self.listings()
        expected = self._applied.get(key)
        if expected is None and not drift.repair:
            expected = self._scratch_listings(text)
        if expected is not None:
            self._report(drift, current, expected, fix=lambda: self._apply(key, text))
            return
        if drift.repair:
            after = self._apply(key, text)
            self._report(drift, current, after, fix=lambda: None)

    def _report(self, drift, current, expected, fix):
        for (family, name), want in expected.items():
            have = current.get((family, name))
            if have == want:
                continue
            problem = "missing" if have is None else "unexpected" if want is None else "differs"
            drift.found("nftables", f"{self.label}{family} {name}", problem, _difference(have, want), fix)

    def _apply(self, key, text):
        self.netns.nft(input_text=text)
        self._applied = {key: self.listings()}
        return self._applied[key]

    def _scratch_listings(self, text):
        scratch = Netns(f"cm-scratch-{secrets.token_hex(4)}")
        scratch.create()
        try:
            scratch.nft(input_text=text)
            return {table: table_listing(scratch, *table) for table in self.tables}
        finally:
            scratch.delete()

    def observe(self):
        return [
            ObservedTable(
                namespace=self.netns.name,
                family=family,
                name=name,
                rules=count_rules(listing),
                sha256=hashlib.sha256(listing.encode()).hexdigest(),
            )
            for (family, name), listing in self.listings().items()
            if listing is not None
        ]
