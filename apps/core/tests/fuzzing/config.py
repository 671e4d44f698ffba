"""The Schemathesis configuration (schemathesis.toml) of one role's run, written from its world.

- dictionaries hold the world's ids, and body fields draw from them by name
  part of the time (the rest stays random); each operation's own path and body
  parameters, from the objects it may act on, are put in by hooks.py from
  `operation_bindings`;
- the role signs in through the token endpoint itself (dynamic auth), and again
  whenever a call answers 401 because the run revoked its token or changed its
  password.
"""

import json

# Body fields, by name, and the world's dictionary they draw from.
BODY_FIELDS = {
    "project_id": "projects",
    "owner": "projects",
    "domain_id": "domains",
    "parent_id": "domains",
    "domain_ids[*]": "domains",
    "user_id": "users",
    "role": "role_names",
    "offering_id": "offerings",
    "image_id": "images",
    "zone_id": "zones",
    "keypair_id": "keypairs",
    "affinity_group_id": "affinity_groups",
    "host_id": "hosts",
    "host_ids[*]": "hosts",
    "username": "usernames",
    "password": "passwords",
    "old_password": "passwords",
    "new_password": "passwords",
}
# Operations, by a regex over "METHOD /path" (no two match one operation), and the dictionaries
# their parameters draw from: the ids of objects the operation may act on. A delete gets objects of
# its own, so that it does not take away what the other operations need.
_ID = "path.id"
_ANY = "[A-Z]+"
_ACTIONS = (
    "start",
    "stop",
    "reboot",
    "pause",
    "unpause",
    "suspend",
    "resume",
    "rebuild",
    "snapshot",
    "console-log",
    "confirm-resize",
    "revert-resize",
)
_COLLECTIONS = {
    "keypairs": "keypairs",
    "affinity-groups": "affinity_groups",
    "api-keys": "api_keys",
    "roles": "roles",
    "rules": "rules",
    "role-assignments": "role_assignments",
    "quotas": "quotas",
    "jobs": "jobs",
    "audit-events": "audit_events",
    "host-audit": "findings",
    "migrations": "migrations",
}
_DELETABLE = {
    "projects": "empty_projects",
    "domains": "empty_domains",
    "users": "deletable_users",
    "zones": "empty_zones",
    "hosts": "deletable_hosts",
    "offerings": "spare_offerings",
    "images": "deletable_images",
    "rate-cards": "deletable_rate_cards",
    "budgets": "deletable_budgets",
}
# Their other operations, with the actions under them (those of images above have their own).
_KEPT = {
    "projects": ("projects", "[a-z-]+/"),
    "domains": ("domains", "[a-z-]+/"),
    "users": ("users", "[a-z-]+/"),
    "zones": ("zones", "[a-z-]+/"),
    "hosts": ("hosts", "(?!fence/)[a-z-]+/"),
    "offerings": ("offerings", "[a-z-]+/"),
    "images": ("images", "(members|move)/"),
    "rate-cards": ("rate_cards", "rates/"),
    "budgets": ("budgets", "(?!)"),
    "invoices": ("invoices", "(csv|finalize)/"),
}
OPERATIONS = [
    *((rf"^POST /api/v1/instances/\{{id\}}/{action}/$", {_ID: f"instances_{action}"}) for action in _ACTIONS),
    (
        r"^POST /api/v1/instances/\{id\}/resize/$",
        {_ID: "instances_resize", "body.offering_id": "larger_offerings"},
    ),
    *(
        (
            rf"^POST /api/v1/instances/\{{id\}}/{action}/$",
            {_ID: f"instances_{action}", "body.host_id": "move_destinations"},
        )
        for action in ("migrate", "live-migrate", "evacuate")
    ),
    (rf"^{_ANY} /api/v1/hosts/\{{id\}}/fence/$", {_ID: "fence_hosts", "body.confirm_powered_off": "yes"}),
    (rf"^{_ANY} /api/v1/instances/\{{id\}}/$", {_ID: "instances_delete"}),
    (r"^POST /api/v1/images/\{id\}/share/$", {_ID: "shareable_images", "body.project_id": "share_targets"}),
    (
        r"^POST /api/v1/images/\{id\}/(accept|reject|unshare)/$",
        {_ID: "offered_images", "body.project_id": "share_members"},
    ),
    (r"^POST /api/v1/images/\{id\}/import/$", {_ID: "queued_images", "body.url": "import_urls"}),
    (r"^POST /api/v1/images/\{id\}/restore/$", {_ID: "restorable_images"}),
    (r"^POST /api/v1/images/\{id\}/reactivate/$", {_ID: "deactivated_images"}),
    (r"^POST /api/v1/images/\{id\}/deactivate/$", {_ID: "active_images"}),
    (rf"^{_ANY} /api/v1/images/\{{image_id\}}/file/$", {"path.image_id": "uploadable_images"}),
    (
        r"^POST /api/v1/invoices/\{id\}/credit-notes/$",
        {_ID: "invoices", "body.amount": "credit_amounts", "body.reason": "credit_reasons"},
    ),
    (r"^POST /api/v1/image-prefetches/$", {"body.image_id": "active_images", "body.host_ids[*]": "hosts"}),
    (
        r"^POST /api/v1/role-assignments/$",
        # On a project, so without a domain (the dictionaries would give one 7 times in 10).
        {
            "body.user_id": "fresh_users",
            "body.role": "member_role",
            "body.project_id": "projects",
            "body.domain_id": "nothing",
        },
    ),
    (r"^POST /api/v1/hosts/$", {"body.name": "new_host_names", "body.zone_id": "zones"}),
    (
        r"^POST /api/v1/images/$",
        {
            "body.name": "new_image_names",
            "body.disk_format": "disk_formats",
            "body.copy_from": "nothing",
            "body.location": "nothing",
            "body.kernel_id": "nothing",
            "body.ramdisk_id": "nothing",
            "body.owner": "own_project",
        },
    ),
    (
        r"^POST /api/v1/rate-cards/\{id\}/rates/$",
        {
            _ID: "rate_cards",
            "body.resource_type": "resource_types",
            "body.offering_id": "nothing",
            "body.effective_from": "whole_hours",
        },
    ),
    (r"^DELETE /api/v1/rate-cards/\{id\}/rates/\{rate_id\}/$", {_ID: "rate_cards", "path.rate_id": "rates"}),
    (
        r"^POST /api/v1/rate-cards/$",
        {"body.name": "card_names", "body.domain_id": "card_free_domains", "body.currency": "currencies"},
    ),
    (r"^PATCH /api/v1/rate-cards/\{id\}/$", {_ID: "rate_cards", "body.name": "card_names"}),
    (
        r"^POST /api/v1/budgets/$",
        {"body.project_id": "budget_projects", "body.domain_id": "nothing", "body.currency": "currencies"},
    ),
    (
        r"^POST /api/v1/users/$",
        {"body.username": "new_usernames", "body.password": "passwords", "body.domain_id": "domains"},
    ),
    *((rf"^DELETE /api/v1/{path}/\{{id\}}/$", {_ID: name}) for path, name in _DELETABLE.items()),
    *(
        (rf"^(?!DELETE){_ANY} /api/v1/{path}/\{{id\}}/({actions})?$", {_ID: name})
        for path, (name, actions) in _KEPT.items()
    ),
    *((rf"^{_ANY} /api/v1/{path}/\{{id\}}/$", {_ID: name}) for path, name in _COLLECTIONS.items()),
    (rf"^{_ANY} /api/v1/quota-defaults/\{{resource\}}/$", {"path.resource": "resources"}),
    (r"^GET /api/v1/metrics/instances/\{id\}/$", {_ID: "instances"}),
    (r"^GET /api/v1/metrics/hosts/\{id\}/$", {_ID: "hosts"}),
]
_NOTHING = "nothing"
# The network operations (their objects: apps/networks/tests/fuzzing_world.py). Fields a tenant may not
# set, or whose random values are never valid, are left out when bound.
NETWORK_OPERATIONS = [
    (
        r"^POST /api/v1/networks/$",
        {
            "body.name": "new_network_names",
            "body.zone_id": "zones",
            "body.project_id": "own_project",
            **{
                f"body.{name}": _NOTHING for name in ("shared", "network_type", "physical_network", "vlan_id")
            },
            **{f"body.{name}": _NOTHING for name in ("mtu", "external", "shared_with")},
        },
    ),
    # The world's project may use several networks, so a create names one.
    (r"^POST /api/v1/instances/$", {"body.networks[*].network_id": "launch_networks"}),
    (r"^DELETE /api/v1/networks/\{id\}/$", {_ID: "deletable_networks"}),
    (r"^(GET|PATCH) /api/v1/networks/\{id\}/$", {_ID: "networks", "body.shared_with": _NOTHING}),
    (
        r"^POST /api/v1/subnets/$",
        {
            "body.network_id": "subnetless_networks",
            "body.cidr": "new_subnet_cidrs",
            **{f"body.{name}": _NOTHING for name in ("gateway_ip", "allocation_pools", "reserved_addresses")},
            **{f"body.{name}": _NOTHING for name in ("ipv6_mode", "dns_nameservers")},
        },
    ),
    (r"^DELETE /api/v1/subnets/\{id\}/$", {_ID: "deletable_subnets"}),
    (r"^(GET|PATCH) /api/v1/subnets/\{id\}/$", {_ID: "subnets", "body.dns_nameservers": _NOTHING}),
    (
        r"^POST /api/v1/ports/$",
        {
            "body.network_id": "usable_networks",
            "body.project_id": "own_project",
            **{f"body.{name}": _NOTHING for name in ("fixed_ips", "security_group_ids", "mac_address")},
        },
    ),
    (r"^DELETE /api/v1/ports/\{id\}/$", {_ID: "deletable_ports"}),
    (r"^(GET|PATCH) /api/v1/ports/\{id\}/$", {_ID: "ports", "body.security_group_ids[*]": "security_groups"}),
    (r"^POST /api/v1/floating-ips/$", {"body.network_id": "public_pools", "body.project_id": "own_project"}),
    (r"^DELETE /api/v1/floating-ips/\{id\}/$", {_ID: "deletable_floating_ips"}),
    (
        r"^POST /api/v1/floating-ips/\{id\}/associate/$",
        {_ID: "free_floating_ips", "body.port_id": "associable_ports", "body.fixed_ip_address": _NOTHING},
    ),
    (r"^POST /api/v1/floating-ips/\{id\}/disassociate/$", {_ID: "associated_floating_ips"}),
    (r"^GET /api/v1/floating-ips/\{id\}/$", {_ID: "floating_ips"}),
    (
        r"^POST /api/v1/routers/$",
        {
            "body.zone_id": "zones",
            "body.project_id": "own_project",
            "body.external_network_id": "public_pools",
        },
    ),
    (r"^DELETE /api/v1/routers/\{id\}/$", {_ID: "deletable_routers"}),
    (
        r"^POST /api/v1/routers/\{id\}/add-interface/$",
        {_ID: "spare_routers", "body.subnet_id": "joinable_subnets"},
    ),
    (
        r"^POST /api/v1/routers/\{id\}/remove-interface/$",
        {_ID: "joined_routers", "body.subnet_id": "joined_subnets"},
    ),
    (
        r"^POST /api/v1/routers/\{id\}/set-gateway/$",
        {_ID: "deletable_routers", "body.external_network_id": "public_pools"},
    ),
    (r"^(GET|PATCH) /api/v1/routers/\{id\}/$", {_ID: "routers"}),
    (r"^POST /api/v1/security-groups/$", {"body.project_id": "own_project"}),
    (r"^DELETE /api/v1/security-groups/\{id\}/$", {_ID: "deletable_security_groups"}),
    (r"^(GET|PATCH) /api/v1/security-groups/\{id\}/$", {_ID: "security_groups"}),
    (
        r"^POST /api/v1/security-group-rules/$",
        {
            "body.security_group_id": "security_groups",
            "body.protocol": "protocols",
            "body.remote_group_id": "security_groups",
            **{f"body.{name}": _NOTHING for name in ("port_min", "port_max", "icmp_type", "icmp_code")},
            **{f"body.{name}": _NOTHING for name in ("remote_cidr", "ethertype")},
        },
    ),
    (r"^DELETE /api/v1/security-group-rules/\{id\}/$", {_ID: "deletable_security_group_rules"}),
    (r"^GET /api/v1/security-group-rules/\{id\}/$", {_ID: "security_group_rules"}),
    (
        r"^POST /api/v1/vlan-pools/$",
        {
            "body.zone_id": "zones",
            "body.physical_network": "physical_networks",
            "body.vlan_min": "new_vlan_mins",
            "body.vlan_max": "new_vlan_maxes",
        },
    ),
    (r"^(GET|DELETE) /api/v1/vlan-pools/\{id\}/$", {_ID: "spare_vlan_pools"}),
    (
        r"^POST /api/v1/public-pools/$",
        {
            "body.name": "new_pool_names",
            "body.zone_id": "zones",
            "body.physical_network": "public_physical_networks",
            "body.cidr": "new_pool_cidrs",
            "body.gateway_ip": "new_pool_gateways",
            "body.network_type": "vlan_network_types",
            "body.vlan_id": "new_pool_vlan_ids",
            **{f"body.{name}": _NOTHING for name in ("allocation_pools", "shared_with")},
        },
    ),
    (r"^(GET|DELETE) /api/v1/public-pools/\{id\}/$", {_ID: "spare_public_pools"}),
    (r"^PATCH /api/v1/host-networks/\{id\}/$", {_ID: "spare_hosts", "body.physical_networks": _NOTHING}),
    (r"^GET /api/v1/host-networks/\{id\}/(desired-state/)?$", {_ID: "network_hosts"}),
    (r"^POST /api/v1/host-networks/audit/$", {"body.host_id": "network_hosts"}),
    (
        r"^POST /api/v1/instances/\{id\}/attach-interface/$",
        {
            _ID: "instances_attach_interface",
            "body.network_id": "usable_networks",
            **{f"body.{name}": _NOTHING for name in ("port_id", "fixed_ips", "security_group_ids")},
        },
    ),
    (
        r"^POST /api/v1/instances/\{id\}/detach-interface/$",
        {_ID: "instances_detach_interface", "body.port_id": "detachable_ports"},
    ),
]
OPERATIONS += NETWORK_OPERATIONS
BODY_PROBABILITY = 0.7


def _toml(value):
    """TOML's basic strings and arrays are JSON's; inline tables are written by hand."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def render(world):
    lines = []
    for name, values in world.ids.items():
        # TOML has no null, and a dictionary holds no booleans: "nothing" (leave the field out) and
        # "yes" are the hooks' alone.
        if values and not any(value is None or isinstance(value, bool) for value in values):
            lines += [f"[dictionaries.{name}]", f"values = {_toml(values)}", ""]
    lines.append("[parameters]")
    for name, dictionary in BODY_FIELDS.items():
        if world.ids.get(dictionary):
            binding = {"dictionary": dictionary, "probability": BODY_PROBABILITY}
            lines.append(f"{json.dumps('body.' + name)} = {_toml(binding)}")
    lines.append("")
    payload = {"username": world.username, "password": world.password, **world.token_scope}
    lines += [
        "[auth.dynamic.openapi.token]",
        'path = "/api/v1/auth/tokens/"',
        f"payload = {_toml(payload)}",
        'extract_selector = "/token"',
        "retry_on = [401]",
        "",
    ]
    return "\n".join(lines)


def operation_bindings(world):
    """[(regex over "METHOD /path", {location.name: values})]: what hooks.py puts into matching cases.

    (Schemathesis's own per-operation dictionaries are not applied to bodies and paths by the
    version in use, so the hooks do it.)
    """
    bound = []
    for pattern, bindings in OPERATIONS:
        drawn = {parameter: world.ids[name] for parameter, name in bindings.items() if world.ids.get(name)}
        if drawn:
            bound.append((pattern, drawn))
    return bound
