"""Forms of the networks pages; each submission calls a service, and a refusal lands on its field."""

from django import forms

from apps.core.web.forms import ServiceForm
from apps.infrastructure.models import Zone

from ..models import SecurityGroupRule
from ..models.networks import NAME_LENGTH

R = SecurityGroupRule


def _addresses(text):
    return [part.strip() for part in (text or "").replace(",", " ").split() if part.strip()]


class NetworkForm(ServiceForm):
    name = forms.CharField(max_length=NAME_LENGTH)
    zone_id = forms.ModelChoiceField(queryset=None, label="Zone", empty_label="Choose a zone")
    error_fields = {
        "bad_name": "name",
        "vlan_ids_exhausted": "zone_id",
        "no_network_node": "zone_id",
        "zone_not_found": "zone_id",
    }

    def __init__(self, zones, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone_id"].queryset = zones


class SubnetForm(ServiceForm):
    cidr = forms.CharField(
        label="Range (CIDR)", max_length=64, help_text="Like 10.0.0.0/24, or a /64 for IPv6."
    )
    gateway_ip = forms.CharField(
        label="Gateway", max_length=64, required=False, help_text="Empty: the first address of the range."
    )
    dns_nameservers = forms.CharField(
        label="DNS servers", max_length=400, required=False, help_text="Addresses, separated by spaces."
    )
    error_fields = {
        "bad_cidr": "cidr",
        "subnet_too_small": "cidr",
        "bad_ipv6_prefix": "cidr",
        "subnet_overlaps": "cidr",
        "subnet_version_taken": "cidr",
        "pool_too_large": "cidr",
        "mtu_too_small": "cidr",
        "bad_gateway": "gateway_ip",
        "bad_ip_address": "dns_nameservers",
        "too_many_dns_servers": "dns_nameservers",
    }

    def subnet_arguments(self):
        data = self.cleaned_data
        arguments = {"cidr": data["cidr"], "dns_nameservers": _addresses(data["dns_nameservers"])}
        if data["gateway_ip"]:
            arguments["gateway_ip"] = data["gateway_ip"]
        return arguments


class SecurityGroupForm(ServiceForm):
    name = forms.CharField(max_length=NAME_LENGTH)
    description = forms.CharField(max_length=255, required=False)
    error_fields = {"bad_name": "name", "reserved_name": "name", "already_exists": "name"}


ANY = "any"


class RuleForm(ServiceForm):
    direction = forms.ChoiceField(
        choices=[(R.INGRESS, "Ingress (to the instance)"), (R.EGRESS, "Egress (from the instance)")]
    )
    ethertype = forms.ChoiceField(choices=[(R.IPV4, "IPv4"), (R.IPV6, "IPv6")], label="IP version")
    protocol = forms.ChoiceField(choices=[(ANY, "Any"), *R.PROTOCOLS])
    port_min = forms.IntegerField(label="First port", required=False, min_value=1, max_value=65535)
    port_max = forms.IntegerField(label="Last port", required=False, min_value=1, max_value=65535)
    icmp_type = forms.IntegerField(label="ICMP type", required=False, min_value=0, max_value=255)
    remote_cidr = forms.CharField(
        label="From or to (CIDR)", max_length=64, required=False, help_text="Empty: anywhere, or the group."
    )
    remote_group_id = forms.ChoiceField(label="Or members of", required=False)
    error_fields = {
        "bad_protocol": "protocol",
        "bad_port_range": "port_min",
        "bad_icmp": "icmp_type",
        "bad_cidr": "remote_cidr",
        "bad_rule": "remote_cidr",
        "security_group_not_found": "remote_group_id",
        "security_group_rule_exists": None,
    }

    def __init__(self, groups, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remote_group_id"].choices = [("", "No group"), *((str(g.pk), g.name) for g in groups)]

    def rule_arguments(self):
        data = self.cleaned_data
        port_min = data["port_min"]
        return {
            "direction": data["direction"],
            "ethertype": data["ethertype"],
            "protocol": None if data["protocol"] == ANY else data["protocol"],
            "port_min": port_min,
            "port_max": data["port_max"] if data["port_max"] is not None else port_min,
            "icmp_type": data["icmp_type"],
            "remote_cidr": data["remote_cidr"] or None,
            "remote_group_id": data["remote_group_id"] or None,
        }


class FloatingIpForm(ServiceForm):
    network_id = forms.ModelChoiceField(queryset=None, label="Public pool", empty_label="Choose a pool")
    error_fields = {"network_not_found": "network_id", "ip_addresses_exhausted": "network_id"}

    def __init__(self, pools, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network_id"].queryset = pools


class AssociateForm(ServiceForm):
    port_id = forms.ChoiceField(label="Instance NIC")
    error_fields = {
        "port_not_found": "port_id",
        "fixed_ip_not_found": "port_id",
        "external_network_unreachable": "port_id",
        "fixed_ip_has_floating_ip": "port_id",
    }

    def __init__(self, nics, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["port_id"].choices = [("", "Choose a NIC"), *nics]


class VlanPoolForm(ServiceForm):
    zone_id = forms.ModelChoiceField(queryset=Zone.objects.order_by("name"), label="Zone", empty_label=None)
    physical_network = forms.CharField(max_length=64, initial="physnet1")
    vlan_min = forms.IntegerField(label="First VLAN id", min_value=1, max_value=4094)
    vlan_max = forms.IntegerField(label="Last VLAN id", min_value=1, max_value=4094)
    error_fields = {
        "bad_physical_network": "physical_network",
        "bad_vlan_range": "vlan_min",
        "vlan_pool_overlaps": "vlan_min",
    }


class PublicPoolForm(ServiceForm):
    name = forms.CharField(max_length=NAME_LENGTH)
    zone_id = forms.ModelChoiceField(queryset=Zone.objects.order_by("name"), label="Zone", empty_label=None)
    physical_network = forms.CharField(max_length=64, initial="public")
    cidr = forms.CharField(label="Range (CIDR)", max_length=64)
    gateway_ip = forms.CharField(label="Gateway", max_length=64)
    error_fields = {
        "bad_name": "name",
        "bad_physical_network": "physical_network",
        "physical_network_in_use": "physical_network",
        "bad_cidr": "cidr",
        "subnet_too_small": "cidr",
        "pool_too_large": "cidr",
        "bad_gateway": "gateway_ip",
    }


class HostNetworkForm(ServiceForm):
    network_node = forms.BooleanField(
        required=False, label="Network node", help_text="Runs routers and networks' DHCP servers."
    )
    physical_networks = forms.CharField(
        label="Physical networks",
        max_length=1000,
        required=False,
        help_text="NAME=INTERFACE, separated by spaces, like physnet1=eth1 public=eth2.",
    )
    error_fields = {
        "bad_interface": "physical_networks",
        "bad_physical_network": "physical_networks",
        "host_network_in_use": "physical_networks",
    }

    def clean_physical_networks(self):
        mappings = {}
        for item in _addresses(self.cleaned_data["physical_networks"]):
            name, sep, interface = item.partition("=")
            if not sep or not name or not interface:
                raise forms.ValidationError(f"{item!r} is not NAME=INTERFACE.")
            mappings[name] = interface
        return mappings
