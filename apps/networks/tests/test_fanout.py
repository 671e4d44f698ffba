"""A change reaches exactly the hosts whose desired state it alters."""

import pytest

from apps.networks import fanout
from apps.networks.host_state import desired_state
from apps.networks.services import security_groups

from .factories import SYSTEM, compute_host, nics_for, project_network
from .test_host_state import Instance


@pytest.fixture
def spread(project, zone, node, pool):
    network = project_network(project, zone)
    web = security_groups.create_security_group(SYSTEM, project, name="web")
    db = security_groups.create_security_group(SYSTEM, project, name="db")
    security_groups.create_rule(
        SYSTEM, db, direction="ingress", protocol="tcp", port_min=5432, remote_group_id=web.pk
    )
    hosts = [compute_host(zone) for _ in range(3)]
    nics = [
        nics_for(
            project,
            [{"network_id": network.pk, "security_group_ids": [g.pk]}],
            Instance(f"i{n}"),
            host=host,
        )[0]
        for n, (g, host) in enumerate([(web, hosts[0]), (db, hosts[1]), (db, hosts[2])])
    ]
    return {"network": network, "web": web, "db": db, "hosts": hosts, "nics": nics, "node": node}


def test_a_web_port_reaches_its_host_the_dhcp_server_and_every_host_filtering_on_web(spread):
    reached = fanout.hosts_for_port(spread["nics"][0])
    assert reached == {spread["hosts"][0].pk, spread["hosts"][1].pk, spread["hosts"][2].pk, spread["node"].pk}
    web_ip = spread["nics"][0].fixed_ips[0]["ip_address"]
    for host in spread["hosts"][1:]:
        groups = desired_state(host).security_groups
        [web] = [g for g in groups if g.security_group_id == str(spread["web"].pk)]
        assert web.member_ips == [web_ip]


def test_a_groups_rules_reach_only_its_members_hosts(spread):
    assert fanout.hosts_for_security_group(spread["db"].pk) == {spread["hosts"][1].pk, spread["hosts"][2].pk}
    assert fanout.hosts_for_network(spread["network"].pk) == {h.pk for h in spread["hosts"]} | {
        spread["node"].pk
    }
