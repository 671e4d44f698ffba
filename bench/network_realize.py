"""How fast the host side of networking works, and whether its packet path grows with the rules.

In lab namespaces (the tests' netlab: nothing leaves them), with the Linux network
driver and the fake driver's veth NICs:

- ``nic_realize_median_ms``: one NIC on a new network made real: state applied
  (bridge, filter tables, DHCP namespace and dnsmasq, metadata port) and the tap
  plugged, median over several NICs;
- ``sg_apply_1000_rules_ms``: the state applied again with a 1,000-rule group;
- ``rtt_ratio_1000_rules``: median time of a new TCP connection between two guests
  through 1,000 distinct TCP rules (the matching one last) over the same with one rule;
- ``rtt_ratio_linear_control``: the same probe through an extra chain of 10,000
  plain rules, one per entry, over one rule (it shows the probe sees a longer path);
- ``port_chain_rules_1`` and ``port_chain_rules_1000``: rules in the server port's chain.

Run as root: ``.venv/bin/python bench/network_realize.py``. The last line is JSON.
"""

import json
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from agent.drivers.base import PluggedNic  # noqa: E402
from agent.drivers.fake_nics import plug  # noqa: E402
from agent.network.linux import LinuxNetworkDriver  # noqa: E402
from agent.network.nftables import count_rules, table_listing  # noqa: E402
from agent.network.plan import NetworkConfig  # noqa: E402
from agent.tests.netlab import Lab, StateBuilder, configure, python_in, tcp_server  # noqa: E402

NICS = 10
PROBES = 300
ROUNDS = 3
SERVER_PORT = 8080


def realize(driver, state):
    drift, plan = driver.converge(state, repair=True)
    assert not drift.failures, drift.failures
    return plan


def plug_port(host, plan, port):
    bridge, mtu = driver_binding(plan, port.port_id)
    plug(host.name, port.instance_id, 0, PluggedNic(port.port_id, port.device_name, port.mac, bridge, mtu))


def driver_binding(plan, port_id):
    found = next(p for p in plan.ports if p.spec.port_id == port_id)
    return found.network.bridge, found.network.mtu


def nic_realize(lab, driver, host):
    builder = StateBuilder()
    group = builder.group()
    builder.allow(group, "egress")
    timings = []
    for index in range(NICS):
        network = builder.network(f"10.{100 + index}.0.0/24", physical_network=f"physnet{index}")
        port = builder.port(network, f"10.{100 + index}.0.10", [group])
        state = builder.state(host.name, index + 1)
        started = time.perf_counter()
        plan = realize(driver, state)
        plug_port(host, plan, port)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def probe(client, address):
    timings = python_in(
        client,
        f"""
        import json, socket, time
        found = []
        for _ in range({PROBES}):
            started = time.perf_counter()
            socket.create_connection(({address!r}, {SERVER_PORT}), timeout=2).close()
            found.append(time.perf_counter() - started)
        print(json.dumps(found))
        """,
        timeout=120,
    )
    return json.loads(timings)


def rules_bench(lab, driver, host):
    builder = StateBuilder()
    network = builder.network("10.200.0.0/24", dhcp=False)
    server_group = builder.group(name="server")
    client_group = builder.group(name="client")
    builder.allow(client_group, "egress")
    server = builder.port(network, "10.200.0.10", [server_group])
    client = builder.port(network, "10.200.0.11", [client_group])

    def with_rules(count):
        builder.groups[server_group][1] = []
        for number in range(count - 1):
            builder.allow(
                server_group,
                "ingress",
                "tcp",
                ports=(20000 + number, 20000 + number),
                remote="10.200.0.11/32",
            )
        builder.allow(
            server_group, "ingress", "tcp", ports=(SERVER_PORT, SERVER_PORT), remote="10.200.0.11/32"
        )
        return builder.state(host.name, count)

    plan = realize(driver, with_rules(1))
    for port in (server, client):
        plug_port(host, plan, port)
    server_ns, client_ns = (lab.guest(host, p.instance_id) for p in (server, client))
    configure(server_ns, "eth0", "10.200.0.10/24")
    configure(client_ns, "eth0", "10.200.0.11/24")
    tcp_server(lab, server_ns, SERVER_PORT)
    chain = f"ingress-{server.device_name}"

    def chain_rules():
        listing = host.nft("-s", "list", "chain", "inet", "cloudmgr", chain)
        return count_rules(listing)

    results = {"one": [], "many": [], "control": []}
    rules_one = chain_rules()
    started = time.perf_counter()
    realize(driver, with_rules(1000))
    apply_ms = (time.perf_counter() - started) * 1000
    rules_many = chain_rules()
    for _ in range(ROUNDS):
        realize(driver, with_rules(1))
        probe(client_ns, "10.200.0.10")
        results["one"] += probe(client_ns, "10.200.0.10")
        realize(driver, with_rules(1000))
        results["many"] += probe(client_ns, "10.200.0.10")
        realize(driver, with_rules(1))
        host.nft(input_text=control_chain())
        results["control"] += probe(client_ns, "10.200.0.10")
        host.nft("delete", "table", "inet", "cloudmgr_bench_control")
    one = statistics.median(results["one"])
    assert table_listing(host, "inet", "cloudmgr_bench_control") is None
    return {
        "sg_apply_1000_rules_ms": round(apply_ms, 1),
        "rtt_median_us_1_rule": round(one * 1e6, 1),
        "rtt_ratio_1000_rules": round(statistics.median(results["many"]) / one, 3),
        "rtt_ratio_linear_control": round(statistics.median(results["control"]) / one, 3),
        "port_chain_rules_1": rules_one,
        "port_chain_rules_1000": rules_many,
    }


def control_chain():
    """10,000 rules no probe packet matches, one per entry, in the forward path."""
    rules = [
        f"\t\tip saddr 198.18.{n // 250}.{n % 250 + 1} tcp dport {20000 + n} accept" for n in range(10000)
    ]
    return "\n".join(
        [
            "table inet cloudmgr_bench_control {",
            "\tchain forward {",
            "\t\ttype filter hook forward priority 2; policy accept;",
            *rules,
            "\t}",
            "}",
        ]
    )


def main():
    with Lab() as lab:
        host = lab.host("bench")
        config = NetworkConfig(host=host.name, namespace=host.name)
        driver = LinuxNetworkDriver(config, lab.data_dir("bench"), lambda *_: None, lambda _: None)
        figures = {"nic_realize_median_ms": round(nic_realize(lab, driver, host), 1)}
        figures.update(rules_bench(lab, driver, host))
        driver.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
