"""Seed the small demo `make run` shows: domain `demo`, project `demo`, user `demo`, a member of it,
the public offering `demo.tiny` (1 vCPU, 256 MiB, 1 GiB root) and, given `--guest-dir DIR` (the
output of scripts/build_test_guest.py), the test guest as the demo project's images `demo-guest`
(qcow2, booted with its kernel `demo-guest-kernel` and ramdisk `demo-guest-ramdisk`).

With `--network HOST INTERFACE` (once the local agent runs): HOST becomes a network node carrying
the physical network `physnet1` on INTERFACE, the flat-DHCP network `demo-net` (10.99.0.0/24, its
gateway 10.99.0.1 the host's own end of that "physical" network) is shared with the demo project,
whose default security group lets that network ping and SSH its instances; and the demo instance
`demo-1` is launched on it from the demo guest (when the images exist and it does not).

Idempotent: what exists is kept, and the demo user's password is set to
CLOUDMGR_DEMO_PASSWORD (from var/demo-password) so the login `make run`
prints always works. Everything goes through the services, so it is audited.
"""

import argparse
import os
import sys
from pathlib import Path

import django

DEMO = "demo"
GUEST = "demo-guest"
OFFERING = {"name": "demo.tiny", "vcpus": 1, "ram_mb": 256, "root_disk_gb": 1}


def seed(password):
    from apps.core import policy
    from apps.core.actor import Actor
    from apps.core.tree import ROOT_DOMAIN_ID
    from apps.identity.models import Domain, Project, Role, RoleAssignment, User
    from apps.identity.services import domains, projects, roles, users

    actor = Actor.system("cli")
    root = Domain.objects.get(pk=ROOT_DOMAIN_ID)
    domain = Domain.objects.filter(parent=root, name=DEMO).first() or domains.create_domain(
        actor, parent=root, name=DEMO, description="The demo tenant of make run"
    )
    project = Project.objects.filter(domain=domain, name=DEMO).first() or projects.create_project(
        actor, domain=domain, name=DEMO, description="The demo project of make run"
    )
    user = User.objects.filter(username=DEMO).first()
    if user is None:
        user = users.create_user(actor, domain=domain, username=DEMO, password=password)
    elif not user.check_password(password):
        users.set_password(actor, user, password)
    member = Role.objects.get(name=policy.PROJECT_MEMBER)
    if not RoleAssignment.objects.filter(user=user, role=member, project=project).exists():
        roles.assign_role(actor, user=user, role=member, project=project)
    return actor, project


def seed_offering(actor):
    from apps.compute.models import ServiceOffering
    from apps.compute.services.offerings import create_offering

    if not ServiceOffering.objects.filter(name=OFFERING["name"]).exists():
        create_offering(actor, **OFFERING, public=True, description="The demo offering of make run")


def seed_guest_images(actor, project, directory):
    """The test guest's kernel, ramdisk and disk as the project's images; an active one of a name is kept."""
    kernel = _image(actor, project, f"{GUEST}-kernel", directory / "vmlinuz", "aki", "aki")
    ramdisk = _image(actor, project, f"{GUEST}-ramdisk", directory / "initrd.gz", "ari", "ari")
    return _image(
        actor, project, GUEST, directory / "disk.qcow2", "qcow2", "bare", kernel=kernel, ramdisk=ramdisk
    )


def _image(actor, project, name, path, disk_format, container_format, **references):
    from apps.images.models import Image
    from apps.images.services.snapshots import create_image_from_file

    existing = Image.objects.filter(owner=project, name=name, status=Image.ACTIVE).first()
    if existing is not None:
        return existing
    return create_image_from_file(
        actor,
        owner=project,
        path=path,
        name=name,
        disk_format=disk_format,
        container_format=container_format,
        **references,
    )


NETWORK = {"name": "demo-net", "cidr": "10.99.0.0/24", "gateway": "10.99.0.1"}
PHYSICAL_NETWORK = "physnet1"
INSTANCE = "demo-1"


def seed_network(actor, project, host_name, interface):
    from apps.infrastructure.models import Host
    from apps.networks.models import Network
    from apps.networks.services import host_networks, networks, security_groups, subnets

    host = Host.objects.get(name=host_name)
    host_networks.set_host_network(
        actor, host, network_node=True, physical_networks={PHYSICAL_NETWORK: interface}
    )
    network = Network.objects.filter(name=NETWORK["name"], project__isnull=True).first()
    if network is None:
        network = networks.create_network(
            actor,
            name=NETWORK["name"],
            zone=host.zone,
            network_type=Network.FLAT_DHCP,
            physical_network=PHYSICAL_NETWORK,
            shared_with=[project],
            description="The demo network of make run: flat, with DHCP, on the host's demo-phys veth",
        )
        subnets.create_subnet(actor, network, cidr=NETWORK["cidr"], gateway_ip=NETWORK["gateway"])
    group = security_groups.ensure_default_group(project)
    for protocol, options in (("icmp", {"icmp_type": 8}), ("tcp", {"port_min": 22, "port_max": 22})):
        if not group.rules.filter(direction="ingress", protocol=protocol).exists():
            security_groups.create_rule(
                actor, group, direction="ingress", protocol=protocol, remote_cidr=NETWORK["cidr"], **options
            )
    return network


def launch_demo_instance(actor, project, network, image):
    from apps.compute.models import Instance, ServiceOffering
    from apps.compute.services.instances import create_instance

    existing = Instance.objects.filter(project=project, name=INSTANCE).exclude(vm_state="deleted").first()
    if existing is not None:
        return existing
    offering = ServiceOffering.objects.get(name=OFFERING["name"])
    instance, _ = create_instance(
        actor,
        project,
        name=INSTANCE,
        offering_id=offering.pk,
        image_id=image.pk,
        networks=[{"network_id": network.pk}],
    )
    return instance


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudmgr.settings")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guest-dir", type=Path, help="scripts/build_test_guest.py's output directory")
    parser.add_argument("--network", nargs=2, metavar=("HOST", "INTERFACE"), help="the demo network's host")
    arguments = parser.parse_args()
    django.setup()
    system, demo_project = seed(os.environ["CLOUDMGR_DEMO_PASSWORD"])
    seed_offering(system)
    image = None
    if arguments.guest_dir:
        image = seed_guest_images(system, demo_project, arguments.guest_dir)
        print(f"demo image {image.name} {image.pk}")
    if arguments.network:
        demo_network = seed_network(system, demo_project, *arguments.network)
        print(f"demo network {demo_network.name} {demo_network.pk}")
        if image is not None:
            demo = launch_demo_instance(system, demo_project, demo_network, image)
            print(f"demo instance {demo.name} {demo.pk}")
