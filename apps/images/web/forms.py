"""Forms of the image pages: importing from a URL, the browser upload's fields, sharing, moving."""

from django import forms

from apps.core.web.forms import ServiceForm
from apps.identity.selectors import projects_for

from .. import formats
from ..models import Image

TENANT_VISIBILITIES = [
    (Image.PRIVATE, "private: this project only"),
    (Image.SHARED, "shared: with chosen projects"),
]


class _ImageFields(ServiceForm):
    name = forms.CharField(max_length=255)
    disk_format = forms.ChoiceField(choices=[(f, f) for f in formats.DISK_FORMATS], initial=formats.QCOW2)
    visibility = forms.ChoiceField(choices=TENANT_VISIBILITIES, initial=Image.PRIVATE)
    error_fields = {
        "bad_property": "name",
        "amazon_format_mismatch": "disk_format",
        "bad_url": "url",
        "quota_exceeded": None,
    }

    def image_fields(self):
        """The create_image() arguments; Amazon kinds get their matching container format."""
        disk_format = self.cleaned_data["disk_format"]
        return {
            "name": self.cleaned_data["name"],
            "disk_format": disk_format,
            "container_format": disk_format if disk_format in formats.AMAZON else formats.BARE,
            "visibility": self.cleaned_data["visibility"],
        }


class ImportForm(_ImageFields):
    url = forms.URLField(
        label="URL (http or https)",
        max_length=2048,
        assume_scheme="https",
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )


class UploadForm(_ImageFields):
    """Rendered for the browser's script, which creates the image and sends the file through the API."""

    file = forms.FileField(label="Image file")


class ShareForm(ServiceForm):
    project = forms.UUIDField(label="Project id", help_text="The id of the project to share the image with.")


class MoveForm(ServiceForm):
    project = forms.ModelChoiceField(queryset=None, label="Move to project")

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_for(principal).order_by("domain__path", "name")
