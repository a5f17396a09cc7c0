"""Sign-up, sign-in, password reset, invitations, members and roles, second factor (issue 12).

``members`` and ``invite`` without an organisation mean the current one (the switcher's choice);
with one, that organisation (404 unless the person is a member).
"""

from django.urls import path

from . import members, org_settings, otp, signin

app_name = "accounts"
urlpatterns = [
    path("login/", signin.SignInView.as_view(), name="login"),
    path("login/code/", signin.second_factor, name="login_otp"),
    path("logout/", signin.SignOutView.as_view(), name="logout"),
    path("signup/", signin.signup, name="signup"),
    path("password/reset/", signin.PasswordReset.as_view(), name="password_reset"),
    path("password/reset/sent/", signin.PasswordResetDone.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        signin.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", signin.PasswordResetComplete.as_view(), name="password_reset_complete"),
    path("password/", signin.PasswordChange.as_view(), name="password_change"),
    path("password/changed/", signin.PasswordChangeDone.as_view(), name="password_change_done"),
    path("second-factor/", otp.setup, name="otp"),
    path("organisations/", members.organisations, name="organisations"),
    path("organisations/switch/", members.switch, name="switch"),
    path("members/", members.members, name="members"),
    path("settings/", org_settings.organisation_settings, name="org_settings"),
    path("organisations/<int:org>/settings/", org_settings.organisation_settings, name="org_settings"),
    path("organisations/<int:org>/members/", members.members, name="members"),
    path("invite/", members.invite, name="invite"),
    path("organisations/<int:org>/invite/", members.invite, name="invite"),
    path("organisations/<int:org>/members/<int:pk>/role/", members.change_role, name="member_role"),
    path("organisations/<int:org>/members/<int:pk>/remove/", members.remove_member, name="member_remove"),
    path(
        "organisations/<int:org>/invitations/<int:pk>/revoke/",
        members.revoke_invitation,
        name="invitation_revoke",
    ),
    path("invitation/<str:token>/", members.accept, name="accept"),
]
