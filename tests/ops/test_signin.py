"""Sign-in (issue 13): wrong passwords lock the name out for a while from that address (django-axes),
weak passwords are refused, and a session ends after ``KOPPELING_SESSION_HOURS``."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db

RIGHT = "a-long-and-right-password"


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create_user("eigenaar", password=RIGHT, email="e@example.test")


def _sign_in(client, password: str, username: str = "eigenaar", address: str = "203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_while_locked(client, person, settings):
    for attempt in range(30):
        response = _sign_in(client, f"wrong-{attempt}")
        assert response.status_code in (200, 429)
    assert response.status_code == 429  # locked long before the 30th
    response = _sign_in(client, RIGHT)
    assert response.status_code == 429 and not _signed_in(client)
    assert b"Too many" in response.content or b"Te veel" in response.content


def test_the_lock_is_per_name_and_address(client, person, django_user_model):
    django_user_model.objects.create_user("boekhouder", password=RIGHT)
    for attempt in range(10):
        _sign_in(client, f"wrong-{attempt}")
    # the same name from another address, and another name from this one, still sign in
    assert _sign_in(client, RIGHT, address="198.51.100.9").status_code == 302
    client.logout()
    assert _sign_in(client, RIGHT, username="boekhouder").status_code == 302


def test_a_few_mistakes_do_not_lock_and_success_forgets_them(client, person, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, f"wrong-{attempt}")
    assert _sign_in(client, RIGHT).status_code == 302 and _signed_in(client)
    client.logout()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, f"wrong-{attempt}")
    assert _sign_in(client, RIGHT).status_code == 302  # the count started again


def test_the_admin_sign_in_is_throttled_too(client, person):
    for attempt in range(10):
        client.post(
            "/admin/login/", {"username": "eigenaar", "password": f"x{attempt}"}, REMOTE_ADDR="203.0.113.8"
        )
    response = client.post(
        "/admin/login/", {"username": "eigenaar", "password": RIGHT}, REMOTE_ADDR="203.0.113.8"
    )
    assert response.status_code == 429


@pytest.mark.parametrize("weak", ["12345678", "password123", "eigenaar-1", "kort"])
def test_weak_passwords_are_refused(weak, person):
    with pytest.raises(ValidationError):
        validate_password(weak, user=person)


def test_a_long_unusual_password_is_accepted(person):
    validate_password("Zeven zwanen zwemmen zuidwaarts", user=person)


def test_the_session_expires(client, person, settings):
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 3600
    response = _sign_in(client, RIGHT)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
