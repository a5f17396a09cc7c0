"""The second factor: a TOTP authenticator app (django-otp), optional, recommended for owners.

Setting it up shows a QR code (and the key, for typing) of a new, unconfirmed device; the first
right code confirms it, and from then on signing in asks for a code. Switching it off needs a
current code too, so a stolen session alone cannot remove it.
"""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from koppeling.sync.models import Membership, Role

from .forms import TokenForm


def _qr_data_uri(url: str) -> str:
    """The otpauth URL as an SVG QR code in a data: URI (the CSP allows data: images, no inline code)."""
    return segno.make(url, error="m").svg_data_uri(scale=5, dark="#1d2430", light="#ffffff")


@sensitive_post_parameters("token")
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    form = TokenForm(request.POST or None)
    if confirmed is not None:  # on: offer to switch it off (with a current code)
        if request.method == "POST" and request.POST.get("action") == "disable" and form.is_valid():
            if confirmed.verify_token(form.cleaned_data["token"]):
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, _("The second factor is off. Signing in needs only your password."))
                return redirect("accounts:otp")
            form.add_error("token", _("That code is not right (or it expired). Try the current one."))
        return render(request, "web/accounts/otp.html", {"enabled": True, "form": form}, status=_status(form))
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": _("Authenticator app")}
    )
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(
                request, _("The second factor is on. Signing in now asks for a code from your app.")
            )
            return redirect("accounts:otp")
        form.add_error("token", _("That code is not right (or it expired). Try the current one."))
    key = base64.b32encode(device.bin_key).decode()
    is_owner = Membership.objects.filter(user=user, role=Role.OWNER).exists()
    context = {
        "enabled": False,
        "form": form,
        "qr": _qr_data_uri(device.config_url),
        "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
        "is_owner": is_owner,
    }
    return render(request, "web/accounts/otp.html", context, status=_status(form))


def _status(form: TokenForm) -> int:
    return 400 if form.is_bound and form.errors else 200
