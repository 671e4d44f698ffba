"""What a project or a domain still owns, so deleting it can be refused with the list.

Apps register counters: `register_project_owner(label, fn)` where fn(project_ids)
returns how many such things those projects own; likewise for domains.
"""

_project_owners = {}
_domain_owners = {}


def register_project_owner(label, counter):
    _project_owners[label] = counter


def register_domain_owner(label, counter):
    _domain_owners[label] = counter


def owned_by_projects(project_ids):
    owned = {}
    for label, counter in _project_owners.items():
        counts = counter(project_ids)
        if isinstance(counts, dict):
            owned.update({f"{label}:{k}": v for k, v in counts.items() if v})
        elif counts:
            owned[label] = counts
    return owned


def owned_by_domain(domain):
    owned = {}
    for label, counter in _domain_owners.items():
        count = counter(domain)
        if count:
            owned[label] = count
    return owned


def in_words(owned):
    """ "3 projects, 1 user": what owned_by_* found, in words ("" for nothing)."""
    return ", ".join(f"{count} {label}" for label, count in owned.items())
