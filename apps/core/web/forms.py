"""A form whose submission calls a service, showing any ServiceError next to the field it is about."""

from django import forms

from apps.core.errors import ServiceError


class ServiceForm(forms.Form):
    # Error code -> the field the error is about, for services that name no field in `details`.
    error_fields = {}

    def submit(self, operation):
        """Run operation(cleaned_data) if the form is valid; False (with errors on the form) if not.

        The operation's return value is kept in `self.result`.
        """
        if not self.is_valid():
            return False
        try:
            self.result = operation(self.cleaned_data)
        except ServiceError as error:
            self.add_service_error(error)
            return False
        return True

    @property
    def error_status(self):
        """The HTTP status of a refused submission: the service's (403, 409…), else 400."""
        return getattr(self, "_service_status", 400)

    def add_service_error(self, error):
        self._service_status = error.status
        named = [name for name in error.details if name in self.fields]
        for name in named:
            messages = error.details[name]
            self.add_error(name, messages if isinstance(messages, list) else [str(messages)])
        if named:
            return
        field = self.error_fields.get(error.code)
        self.add_error(field if field in self.fields else None, error.message)


def password_field(label, **kwargs):
    return forms.CharField(
        label=label,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": kwargs.pop("autocomplete", "new-password")}),
        **kwargs,
    )


class ConfirmedPasswordMixin:
    """Two password fields that must be equal: `new_password` and `confirm_password`."""

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("confirm_password"):
            self.add_error("confirm_password", "The two passwords are not the same.")
        return data
