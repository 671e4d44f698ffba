"""Metadata: each guest gets its own data only. Audit: hand-made drift is found and repaired."""

import base64
import io
import json
import subprocess

import pycdlib

from agent import config_drive, protocol
from agent.network import names
from agent.network_protocol import InstanceMetadata, PublicKey
from agent.tests.netlab import StateBuilder, dhcp_lease, python_in
from agent.tests.test_network_guests import spawn_guest, sync


def http_get(ns, path):
    return python_in(
        ns,
        f"""
        import urllib.request
        try:
            print(urllib.request.urlopen("http://169.254.169.254{path}", timeout=3).read().decode())
        except Exception as exc:
            print("failed", exc)
    """,
    )


def guests_with_metadata(lab, controller, network_agent, tmp_path):
    agent = network_agent()
    agent.lab = lab
    builder = StateBuilder()
    network = builder.network("10.90.0.0/24")
    group = builder.group()
    builder.allow(group, "egress")
    ports = [builder.port(network, f"10.90.0.{10 + i}", [group]) for i in range(2)]
    for index, port in enumerate(ports):
        meta = InstanceMetadata(
            instance_id=port.instance_id,
            name=f"guest {index}",
            hostname=f"guest-{index}",
            project_id=builder.ports[0].instance_id,
            public_keys=[PublicKey(f"key{index}", f"ssh-ed25519 AAAA{index} user@example")],
            user_data_b64=base64.b64encode(f"#!/bin/sh\necho secret-{index}\n".encode()).decode(),
        )
        controller.instance_metadata[port.instance_id] = (agent.host, meta)
    sync(agent, controller, builder, 1)
    guests = [spawn_guest(agent, controller, tmp_path, port) for port in ports]
    for guest in guests:
        assert dhcp_lease(lab, guest)
    return agent, builder, ports, guests


def test_each_guest_gets_only_its_own_metadata_through_the_hosts_signed_proxy(
    lab, controller, network_agent, tmp_path
):
    agent, _, ports, guests = guests_with_metadata(lab, controller, network_agent, tmp_path)

    for index, (port, guest) in enumerate(zip(ports, guests, strict=True)):
        meta = json.loads(http_get(guest, "/openstack/latest/meta_data.json"))
        assert meta["uuid"] == port.instance_id
        assert meta["public_keys"] == {f"key{index}": f"ssh-ed25519 AAAA{index} user@example"}
        assert http_get(guest, "/latest/user-data") == f"#!/bin/sh\necho secret-{index}"
        assert http_get(guest, "/latest/meta-data/local-ipv4") == port.fixed_ips[0].ip_address
        assert http_get(guest, "/latest/meta-data/public-keys/0/openssh-key").startswith(
            f"ssh-ed25519 AAAA{index}"
        )
        network_data = json.loads(http_get(guest, "/openstack/latest/network_data.json"))
        assert network_data["links"][0]["ethernet_mac_address"] == port.mac

    assert {host for host, _ in controller.metadata_requests} == {agent.host}
    assert {instance for _, instance in controller.metadata_requests} == {p.instance_id for p in ports}


def test_a_guest_claiming_another_address_gets_no_metadata(lab, controller, network_agent, tmp_path):
    _, _, ports, guests = guests_with_metadata(lab, controller, network_agent, tmp_path)
    guests[1].ip("addr", "flush", "dev", "eth0")
    guests[1].ip("addr", "add", f"{ports[0].fixed_ips[0].ip_address}/24", "dev", "eth0")

    assert http_get(guests[1], "/latest/user-data").startswith("failed")


def test_the_config_drive_holds_the_same_files_from_the_signed_endpoint(
    lab, controller, network_agent, tmp_path
):
    agent, _, ports, _ = guests_with_metadata(lab, controller, network_agent, tmp_path)
    meta = controller.instance_metadata[ports[0].instance_id][1]
    iso_path = tmp_path / "config.iso"

    config_drive.write(iso_path, meta, agent.network.state)

    iso = pycdlib.PyCdlib()
    iso.open(str(iso_path))
    assert iso.pvd.volume_identifier.decode().strip() == "config-2"
    for path, expected in (
        ("/openstack/latest/user_data", meta.user_data()),
        ("/openstack/latest/meta_data.json", None),
    ):
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, joliet_path=path)
        if expected is not None:
            assert out.getvalue() == expected
        else:
            assert json.loads(out.getvalue())["uuid"] == ports[0].instance_id
    iso.close()


def test_the_audit_reports_a_deleted_rule_bridge_and_dhcp_entry_and_the_repair_restores_them(
    lab, controller, network_agent, tmp_path
):
    agent, _, ports, guests = guests_with_metadata(lab, controller, network_agent, tmp_path)
    host = agent.netns
    network_id = ports[0].network_id
    bridge = names.bridge(network_id)
    handle = next(
        line.rsplit("# handle ", 1)[1]
        for line in host.nft(
            "-a", "list", "chain", "bridge", "cloudmgr", f"out-{ports[0].device_name}"
        ).splitlines()
        if "ether saddr !=" in line
    )
    host.nft("delete", "rule", "bridge", "cloudmgr", f"out-{ports[0].device_name}", "handle", handle)
    hosts_file = agent.network.driver.dhcp.paths(network_id)["hosts"]
    hosts_file.write_text("".join(line + "\n" for line in hosts_file.read_text().splitlines()[1:]))
    host.ip("link", "del", bridge)

    found = protocol.parse_result(
        protocol.AUDIT_NETWORK, agent.run(protocol.AUDIT_NETWORK, protocol.AuditNetwork(repair=False)).result
    )

    problems = {(d.kind, d.name, d.problem) for d in found.drift}
    assert ("nftables", "bridge cloudmgr", "differs") in problems
    assert ("bridge", bridge, "missing") in problems
    assert ("dhcp_hosts", network_id, "differs") in problems
    assert not any(d.repaired for d in found.drift)
    assert host.ip("link", "show", bridge, check=False) == ""

    repaired = protocol.parse_result(
        protocol.AUDIT_NETWORK, agent.run(protocol.AUDIT_NETWORK, protocol.AuditNetwork(repair=True)).result
    )

    assert {(d.kind, d.name) for d in repaired.drift if d.repaired} >= {(k, n) for k, n, _ in problems}
    again = protocol.parse_result(
        protocol.AUDIT_NETWORK, agent.run(protocol.AUDIT_NETWORK, protocol.AuditNetwork(repair=False)).result
    )
    assert again.drift == []
    assert dhcp_lease(lab, guests[0])["ip"] == ports[0].fixed_ips[0].ip_address
    assert controller.network_reports[-1].observed.dhcp_servers[0].running


def test_a_physical_interface_carrying_the_hosts_address_is_never_taken_by_a_flat_network(
    lab, controller, network_agent
):
    agent = network_agent(physical_interfaces={"physnet1": "eth9"})
    agent.netns.ip("link", "add", "eth9", "type", "veth", "peer", "name", "eth9peer")
    agent.netns.ip("addr", "add", "192.0.2.5/24", "dev", "eth9")
    builder = StateBuilder()
    builder.network("10.91.0.0/24", type="flat", dhcp=False)

    result = sync(agent, controller, builder, 1)

    assert any(d.kind == "uplink" and d.problem == "refused" for d in result.drift)
    link = json.loads(
        subprocess.run(
            agent.netns.command(["ip", "-j", "link", "show", "eth9"]), capture_output=True, text=True
        ).stdout
    )[0]
    assert "master" not in link
    assert agent.netns.addresses("eth9") == ["192.0.2.5/24"]
