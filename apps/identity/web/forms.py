"""Forms for domains, projects, users and role assignments. Choices come from scoped querysets."""

from django import forms
from django.core.validators import RegexValidator
from django.urls import reverse

from apps.core.web.forms import ConfirmedPasswordMixin, ServiceForm, password_field
from apps.identity import selectors
from apps.identity.web.selectors import domain_labels

# A slash would make the domain's "acme/eng" path ambiguous for the command line.
no_slash = RegexValidator(r"^[^/]+$", "A name cannot contain '/'.")
NAME_ERRORS = {"already_exists": "name"}


class DomainChoiceField(forms.ModelChoiceField):
    """Domains the person may see, each labelled with its path ("acme / eng")."""

    def __init__(self, principal, **kwargs):
        queryset = selectors.domains_for(principal)
        self.labels = domain_labels(list(queryset))
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        return self.labels.get(obj.pk, obj.name)


class DomainCreateForm(ServiceForm):
    name = forms.CharField(max_length=64, validators=[no_slash])
    description = forms.CharField(max_length=255, required=False)
    error_fields = NAME_ERRORS

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"parent": DomainChoiceField(principal, label="Parent domain"), **self.fields}


class EditForm(ServiceForm):
    """Name, description and enabled: the editable fields of domains and projects."""

    name = forms.CharField(max_length=64, validators=[no_slash])
    description = forms.CharField(max_length=255, required=False)
    enabled = forms.BooleanField(required=False)
    error_fields = {**NAME_ERRORS, "root_domain": "enabled"}

    @classmethod
    def of(cls, obj):
        """An unbound form showing a domain's or a project's current values."""
        return cls(initial={"name": obj.name, "description": obj.description, "enabled": obj.enabled})


class ProjectCreateForm(ServiceForm):
    name = forms.CharField(max_length=64, validators=[no_slash])
    description = forms.CharField(max_length=255, required=False)
    error_fields = NAME_ERRORS

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"domain": DomainChoiceField(principal), **self.fields}


class UserCreateForm(ServiceForm):
    username = forms.CharField(
        max_length=150,
        validators=[RegexValidator(r"^[\w.@+-]+$", "Use letters, digits and . @ + - _ only.")],
    )
    full_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    password = password_field(
        "Password", required=False, help_text="Leave empty for a user who signs in through a directory."
    )
    error_fields = {"already_exists": "username", "weak_password": "password"}

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"domain": DomainChoiceField(principal), **self.fields}


class UserUpdateForm(ServiceForm):
    full_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    is_active = forms.BooleanField(label="Active (may sign in)", required=False)
    error_fields = {"self_disable": "is_active"}


class SetPasswordForm(ConfirmedPasswordMixin, ServiceForm):
    new_password = password_field("New password")
    confirm_password = password_field("New password again")
    error_fields = {"weak_password": "new_password", "external_user": "new_password"}


class RoleChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=selectors.roles(), to_field_name="name", **kwargs)


class AssignRoleForm(ServiceForm):
    """Give a user a role on a domain or a project, chosen in one list ("domain:<id>", "project:<id>")."""

    role = RoleChoiceField()
    error_fields = {
        "already_exists": "role",
        "delegation_exceeded": "role",
        "role_scope_mismatch": "where",
    }

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        domains = list(selectors.domains_for(principal))
        labels = domain_labels(domains)
        projects = selectors.projects_for(principal).filter(domain__in=domains)
        self.fields["where"] = forms.ChoiceField(
            label="On",
            choices=[
                ("", "Choose a domain or a project"),
                ("Domains", [(f"domain:{d.pk}", labels[d.pk]) for d in domains]),
                ("Projects", [(f"project:{p.pk}", f"{labels[p.domain_id]} / {p.name}") for p in projects]),
            ],
        )
        self._places = {f"domain:{d.pk}": d for d in domains} | {f"project:{p.pk}": p for p in projects}

    def place(self):
        """{"domain": Domain} or {"project": Project}, for assign_role()."""
        key = self.cleaned_data["where"]
        return {key.split(":", 1)[0]: self._places[key]}


class AddMemberForm(ServiceForm):
    """Give a user of the project's domains a role on the project."""

    role = RoleChoiceField()
    error_fields = {"already_exists": "user", "delegation_exceeded": "role", "role_scope_mismatch": "role"}

    def __init__(self, principal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {
            "user": forms.ModelChoiceField(
                label="Username",
                queryset=selectors.users_for(principal).filter(is_active=True),
                to_field_name="username",
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
                error_messages={
                    "invalid_choice": "There is no active user of that name that you administer."
                },
            ),
            **self.fields,
        }


class RoleCreateForm(ServiceForm):
    name = forms.CharField(
        max_length=64,
        validators=[
            RegexValidator(
                r"^[-a-zA-Z0-9_]+$",
                "Use letters, digits, - and _ only, without spaces: network-operator, for instance.",
            )
        ],
        help_text="Letters, digits, - and _; it names the role in rules' pages and the API.",
    )
    description = forms.CharField(max_length=255, required=False)
    error_fields = {"already_exists": "name"}


class RuleForm(ServiceForm):
    action = forms.CharField(
        label="Action pattern",
        max_length=128,
        help_text="An action name, a glob such as identity.project.*, or a kind such as @read.",
    )
    error_fields = {"already_exists": "action", "unknown_action": "action"}

    def __init__(self, *args, preview_target=None, **kwargs):
        """preview_target: the element that shows, as one types, which actions the pattern matches."""
        super().__init__(*args, **kwargs)
        if preview_target:
            self.fields["action"].widget.attrs.update(
                {
                    "hx-get": reverse("portal:pattern-preview"),
                    "hx-trigger": "input changed delay:300ms",
                    "hx-target": preview_target,
                    "autocomplete": "off",
                }
            )
