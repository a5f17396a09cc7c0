"""The way in: sign-up creates a user and their organisation as owner; sign-in (with and without a
second factor), sign-out, password reset by e-mail, the second factor switched on and off."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.web.conftest import PASSWORD, member_of

from koppeling.sync.models import ActivityEvent, Membership, Organisation, Role

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "lange-zin-met-woorden-42"


def unthrottle(user) -> None:
    """django-otp makes a device wait after a wrong code (1 s, doubling): the test does not wait."""
    TOTPDevice.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def test_sign_up_creates_user_and_organisation_as_owner(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "organisation": "Webwinkel De Molen",
            "email": "Anna@DeMolen.nl",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("setup:new_link")
    user = get_user_model().objects.get(email="anna@demolen.nl")
    assert user.username == "anna@demolen.nl" and user.check_password(GOOD_PASSWORD)
    org = Organisation.objects.get(name="Webwinkel De Molen")
    assert org.slug == "webwinkel-de-molen"
    assert Membership.objects.get(user=user, organisation=org).role == Role.OWNER
    assert ActivityEvent.objects.filter(organisation=org, code="organisation_created").exists()
    # signed in at once
    assert client.get(reverse("accounts:members")).status_code == 200


def test_sign_up_validation_is_located_and_creates_nothing(client, django_user_model):
    django_user_model.objects.create_user("taken@example.test", email="taken@example.test", password=PASSWORD)
    response = client.post(
        reverse("accounts:signup"),
        {"organisation": "", "email": "taken@example.test", "password1": "123", "password2": "124"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"organisation", "email", "password2"}
    html = response.content.decode()
    assert 'id="id_email_error"' in html and 'aria-invalid="true"' in html
    assert Organisation.objects.count() == 0
    response = client.post(
        reverse("accounts:signup"),
        {
            "organisation": "X",
            "email": "new@example.test",
            "password1": "12345678901",
            "password2": "12345678901",
        },
    )
    assert "password1" in response.context["form"].errors  # the configured validators (numeric)
    assert not django_user_model.objects.filter(email="new@example.test").exists()


def test_sign_in_and_out_with_e_mail(client, django_user_model):
    django_user_model.objects.create_user("piet@example.test", email="piet@example.test", password=PASSWORD)
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(reverse("accounts:login"), {"username": "piet@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:organisations")).status_code == 200
    wrong = client.post(reverse("accounts:logout"))
    assert wrong.status_code == 302 and wrong["Location"] == reverse("accounts:login")
    assert client.get(reverse("accounts:organisations")).status_code == 302


def test_wrong_password_says_so_without_saying_which(client, django_user_model):
    django_user_model.objects.create_user("piet", password=PASSWORD)
    response = client.post(reverse("accounts:login"), {"username": "piet", "password": "nope"})
    assert response.status_code == 200 and b"form-errors" in response.content
    assert "_auth_user_id" not in client.session


def test_password_reset_by_e_mail(client, django_user_model):
    user = django_user_model.objects.create_user("kees", email="kees@example.test", password=PASSWORD)
    response = client.post(reverse("accounts:password_reset"), {"email": "kees@example.test"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["kees@example.test"]
    link = re.search(r"https?://[^/]+(/account/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    # unknown addresses get the same answer and no mail
    client.post(reverse("accounts:password_reset"), {"email": "nobody@example.test"})
    assert len(mail.outbox) == 1


def test_second_factor_on_then_sign_in_asks_for_the_code_then_off(client, django_user_model, link):
    user = member_of(django_user_model, link.organisation, "baas", Role.OWNER)
    client.login(username="baas", password=PASSWORD)
    page = client.get(reverse("accounts:otp"))
    assert page.status_code == 200 and page.context["is_owner"]
    assert page.context["qr"].startswith("data:image/svg+xml")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    bad = client.post(
        reverse("accounts:otp"), {"token": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert bad.status_code == 400 and not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    unthrottle(user)
    assert client.post(reverse("accounts:otp"), {"token": code_for(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post(reverse("accounts:logout"))

    # the password alone no longer signs in
    response = client.post(reverse("accounts:login"), {"username": "baas", "password": PASSWORD})
    assert response["Location"] == reverse("accounts:login_otp")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:members")).status_code == 302
    wrong = client.post(reverse("accounts:login_otp"), {"token": "12345x"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    unthrottle(user)
    device.refresh_from_db()
    ok = client.post(reverse("accounts:login_otp"), {"token": code_for(device, 1)})
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("accounts:members")).status_code == 200

    # switching it off needs a current code
    assert client.post(reverse("accounts:otp"), {"action": "disable", "token": "99999x"}).status_code == 400
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    unthrottle(user)
    device.refresh_from_db()
    client.post(reverse("accounts:otp"), {"action": "disable", "token": code_for(device, 2)})
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_second_factor_step_without_a_pending_sign_in_goes_back(client):
    response = client.get(reverse("accounts:login_otp"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
