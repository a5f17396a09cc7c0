"""The forms of the way in: sign-up, invitations, roles, the second factor.

A person signs in with their e-mail address (it is their user name); accounts made before that
(``createsuperuser``) keep their user name. Passwords go through the configured validators.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from koppeling.sync.models import Role


def email_taken(email: str) -> bool:
    users = get_user_model().objects
    return users.filter(email__iexact=email).exists() or users.filter(username__iexact=email).exists()


class SignInForm(AuthenticationForm):
    """Django's sign-in (throttled by django-axes through ``authenticate``), with our labels."""

    username = forms.CharField(
        label=_("E-mail address or user name"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()


class SignUpForm(forms.Form):
    """A new account; without an invitation it also creates the person's organisation (as owner)."""

    organisation = forms.CharField(
        label=_("Name of your shop or company"),
        max_length=200,
        help_text=_("Your organisation in koppeling. A bookkeeper adds client organisations later."),
    )
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password and not only digits."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        if invitation is not None:  # the invitation names the organisation and the address
            del self.fields["organisation"]
            self.fields["email"].initial = invitation.email
            self.fields["email"].disabled = True

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email_taken(email):
            raise forms.ValidationError(
                _("An account with this e-mail address exists. Sign in, or reset its password."),
                code="taken",
            )
        return email

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first and data.get("email"):
            user = get_user_model()(username=data["email"], email=data["email"])
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)


ROLE_CHOICES = [
    (Role.OWNER, Role.OWNER.label),
    (Role.MEMBER, Role.MEMBER.label),
    (Role.READ_ONLY, Role.READ_ONLY.label),
]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=ROLE_CHOICES,
        initial=Role.MEMBER,
        help_text=_(
            "Owner: everything, including members and credentials. Member: runs and fixes links. "
            "Read-only: looks (e.g. the bookkeeper)."
        ),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class TokenForm(forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("Enter the digits your app shows."), code="digits")
        return token
