"""Forms of the compute pages (launch, keypairs, snapshot, affinity groups); refusals land on their field."""

from django import forms

from apps.core.web.forms import ServiceForm
from apps.images.models import Image, ImageMember
from apps.images.selectors import images_for
from apps.networks.selectors import usable_networks

from ..launch_images import bootable
from ..models import AffinityGroup, Keypair, ServiceOffering
from ..scheduler.placement import NoValidHost
from ..selectors import available_in
from ..services.keypairs import ED25519, RSA
from ..services.launch import NAME_MAX, USER_DATA_MAX_BYTES
from . import refusals


class LaunchForm(ServiceForm):
    name = forms.CharField(max_length=NAME_MAX)
    image_id = forms.ModelChoiceField(queryset=None, label="Image", empty_label="Choose an image")
    offering_id = forms.ModelChoiceField(queryset=None, label="Size (offering)", empty_label="Choose a size")
    keypair_id = forms.ModelChoiceField(
        queryset=None, label="SSH keypair", required=False, empty_label="No keypair"
    )
    user_data = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=f"For cloud-init, through the metadata service; up to {USER_DATA_MAX_BYTES} bytes.",
    )
    affinity_group_id = forms.ModelChoiceField(
        queryset=None, label="Affinity group", required=False, empty_label="None"
    )
    networks = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Networks",
        help_text="One NIC on each, in the order listed. None chosen: the project's network, if it has one.",
    )
    config_drive = forms.BooleanField(
        required=False,
        label="Config drive",
        help_text="Also give it its metadata on a CD-ROM (always on flat networks, which have no DHCP).",
    )
    error_fields = {
        "bad_instance_name": "name",
        "user_data_too_large": "user_data",
        "image_not_found": "image_id",
        "image_not_active": "image_id",
        "image_not_bootable": "image_id",
        "offering_too_small": "offering_id",
        "offering_not_found": "offering_id",
        "keypair_not_found": "keypair_id",
        "affinity_group_not_found": "affinity_group_id",
        "network_required": "networks",
        "network_not_found": "networks",
        "network_not_in_zone": "networks",
        "ip_addresses_exhausted": "networks",
        "too_many_nics": "networks",
    }

    def __init__(self, scoped, project, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image_id"].queryset = launchable_images(scoped)
        self.fields["offering_id"].queryset = ServiceOffering.objects.filter(
            available_in(project.domain.path)
        ).distinct()
        self.fields["offering_id"].label_from_instance = _offering_label
        self.fields["keypair_id"].queryset = Keypair.objects.filter(project=project).order_by("name")
        self.fields["affinity_group_id"].queryset = AffinityGroup.objects.filter(project=project).order_by(
            "name"
        )
        self.fields["networks"].queryset = usable_networks(project)

    def add_service_error(self, error):
        if error.code != NoValidHost.code:
            return super().add_service_error(error)
        self._service_status = error.status
        for sentence in refusals.no_valid_host(error, self.cleaned_data.get("affinity_group_id")):
            self.add_error(None, sentence)
        return None

    def launch_arguments(self):
        """The create_instance() keyword arguments."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "image_id": data["image_id"].pk,
            "offering_id": data["offering_id"].pk,
            "keypair_id": data["keypair_id"].pk if data["keypair_id"] else None,
            "affinity_group_id": data["affinity_group_id"].pk if data["affinity_group_id"] else None,
            # Browsers send a text area's lines ending in CR LF; a script's #! line must not.
            "user_data": data["user_data"].replace("\r\n", "\n").encode(),
            "networks": [{"network_id": n.pk} for n in data["networks"]] or None,
            "config_drive": data["config_drive"],
        }


def _offering_label(offering):
    ephemeral = f" + {offering.ephemeral_disk_gb} GB ephemeral" if offering.ephemeral_disk_gb else ""
    return (
        f"{offering.name}: {offering.vcpus} vCPU, {offering.ram_mb} MB RAM, "
        f"{offering.root_disk_gb} GB disk{ephemeral}"
    )


class KeypairForm(ServiceForm):
    name = forms.CharField(max_length=255)
    public_key = forms.CharField(
        required=False,
        label="Public key",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Paste an OpenSSH public key to import it; leave empty to generate a new pair.",
    )
    key_type = forms.ChoiceField(
        choices=[(ED25519, "Ed25519"), (RSA, "RSA (3072 bits)")],
        initial=ED25519,
        label="Type of a generated key",
    )
    error_fields = {
        "bad_public_key": "public_key",
        "weak_public_key": "public_key",
        "bad_key_type": "key_type",
        "already_exists": "name",
    }


def launchable_images(scoped):
    """Active images the project may boot: its own, public ones and those shared with it and accepted;
    disk images only (kernels and ramdisks boot only along with the machine image that names them)."""
    usable = images_for(scoped, shares=(ImageMember.ACCEPTED,)).filter(status=Image.ACTIVE, deactivated=False)
    return bootable(usable).order_by("name")


def focus_first_error(form):
    """Put the cursor in the first field the refusal is about, so keyboard users land on it."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            return


class RebuildForm(ServiceForm):
    image_id = forms.ModelChoiceField(queryset=None, label="Image", empty_label="Choose an image")
    # A rebuild destroys what is on the root disk: it is confirmed in the form itself.
    confirm = forms.BooleanField(
        label="Replace the root disk: what is on it now is lost",
        error_messages={"required": "Tick this box to confirm that the root disk's contents may be lost."},
    )
    error_fields = LaunchForm.error_fields

    def __init__(self, scoped, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image_id"].queryset = launchable_images(scoped)


class AttachInterfaceForm(ServiceForm):
    network_id = forms.ModelChoiceField(queryset=None, label="Network", empty_label="Choose a network")
    error_fields = {
        "network_not_found": "network_id",
        "ip_addresses_exhausted": "network_id",
        "network_not_in_zone": "network_id",
        "too_many_nics": "network_id",
    }

    def __init__(self, networks, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network_id"].queryset = networks


class SnapshotForm(ServiceForm):
    name = forms.CharField(max_length=255, label="Image name")
    error_fields = {"bad_property": "name"}


class AffinityGroupForm(ServiceForm):
    name = forms.CharField(max_length=AffinityGroup._meta.get_field("name").max_length)
    policy = forms.ChoiceField(
        choices=[
            (AffinityGroup.AFFINITY, "Affinity: all on one host"),
            (AffinityGroup.ANTI_AFFINITY, "Anti-affinity: each on a host of its own"),
        ],
        initial=AffinityGroup.ANTI_AFFINITY,
        help_text="Checked at every launch into the group; a launch that cannot honour it is refused.",
    )
    error_fields = {"already_exists": "name"}
