"""The way in: sign-up, sign-in with an optional second factor, sign-out, password reset.

Sign-in is two steps for a person with an authenticator app: the password (throttled by
django-axes) leaves only a short-lived "pending" mark in the session; the person is signed in once
the code is right (django-otp throttles wrong codes per device). Without a device one step does.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from koppeling.sync.models import ActivityEvent, Membership, Organisation, Role

from ..access import set_current_organisation
from ..models import Invitation
from .codes import AccountCode
from .forms import SignInForm, SignUpForm, TokenForm

#: the session key of a sign-in that waits for its second factor, and how long it may wait
PENDING = "koppeling_otp_pending"
PENDING_SECONDS = 300


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class SignInView(auth_views.LoginView):
    template_name = "web/accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if user_has_device(user, confirmed=True):
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
                "next": self.get_success_url(),
                "at": time.time(),
            }
            return redirect("accounts:login_otp")
        return super().form_valid(form)


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code of the person's authenticator app."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.error(request, _("Sign in again: the code was not entered in time."))
        return redirect("accounts:login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            del request.session[PENDING]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(pending.get("next") or reverse("pages:overview"))
        form.add_error("token", _("That code is not right (or it expired). Try the current one."))
    return render(request, "web/accounts/login_otp.html", {"form": form})


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")


def unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "organisatie"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_organisation(name: str, owner) -> Organisation:
    """A new organisation with ``owner`` as its owner, in the activity log."""
    org = Organisation.objects.create(name=name.strip(), slug=unique_slug(name))
    Membership.objects.create(organisation=org, user=owner, role=Role.OWNER)
    ActivityEvent.objects.create(
        organisation=org,
        code=AccountCode.ORGANISATION_CREATED,
        params={"user": owner.get_username(), "organisation": org.name},
    )
    return org


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """A new account and, unless it answers an invitation, its organisation with them as owner."""
    from .members import join

    token = request.GET.get("invitation") or request.POST.get("invitation") or ""
    invitation = Invitation.by_token(token) if token else None
    if invitation is not None and not invitation.is_open:
        invitation = None
    if request.user.is_authenticated and invitation is None:
        return redirect("pages:overview")
    form = SignUpForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        email = invitation.email if invitation is not None else form.cleaned_data["email"]
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=email, email=email, password=form.cleaned_data["password1"]
            )
            if invitation is not None:
                org = join(invitation, user)
            else:
                org = create_organisation(form.cleaned_data["organisation"], user)
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        set_current_organisation(request, org)
        messages.success(
            request, _("Welcome to koppeling. Your organisation is %(org)s.") % {"org": org.name}
        )
        if invitation is not None:
            return redirect("pages:overview")
        return redirect("setup:new_link")
    return render(
        request, "web/accounts/signup.html", {"form": form, "invitation": invitation, "token": token}
    )


# -- password reset: Django's views, our templates and URL names ----------------------------------------


class PasswordReset(auth_views.PasswordResetView):
    template_name = "web/accounts/password_reset_form.html"
    email_template_name = "web/accounts/password_reset_email.txt"
    subject_template_name = "web/accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "web/accounts/password_reset_done.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "web/accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "web/accounts/password_reset_complete.html"


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "web/accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDone(auth_views.PasswordChangeDoneView):
    template_name = "web/accounts/password_change_done.html"
