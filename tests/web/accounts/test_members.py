"""Members, roles and invitations: an owner invites by e-mail with a role, the link is spent once,
roles change, an organisation keeps one owner; a bookkeeper switches between clients; another
organisation's member pages do not exist for an outsider."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from tests.web.conftest import PASSWORD, member_of

from koppeling.sync.models import ActivityEvent, Membership, Organisation, Role
from koppeling.web.access import CURRENT_ORGANISATION
from koppeling.web.models import Invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return Organisation.objects.create(name="De Molen", slug="de-molen")


@pytest.fixture
def owner(django_user_model, org):
    return member_of(django_user_model, org, "anna", Role.OWNER)


def invite(client, org, email="boekhouder@kantoor.test", role=Role.READ_ONLY):
    with_commit = client.post(reverse("accounts:invite", args=[org.pk]), {"email": email, "role": role})
    return with_commit


def link_in(message) -> str:
    return re.search(r"https?://\S+/account/invitation/\S+/", message.body).group(0)


def test_owner_invites_with_a_role_and_the_invitee_signs_up_into_it(
    client, owner, org, django_capture_on_commit_callbacks
):
    client.login(username=owner.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, org)
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.role == Role.READ_ONLY and invitation.email == "boekhouder@kantoor.test"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boekhouder@kantoor.test"]
    url = link_in(mail.outbox[0])
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash != token and token not in str(Invitation.objects.values())  # only its hash
    client.logout()
    page = client.get(url)
    assert page.status_code == 200 and "De Molen" in page.content.decode()
    response = client.post(
        reverse("accounts:signup"),
        {
            "invitation": token,
            "organisation": "",
            "email": "",
            "password1": "lang-wachtwoord-42x",
            "password2": "lang-wachtwoord-42x",
        },
    )
    assert response.status_code == 302
    joined = Membership.objects.get(user__email="boekhouder@kantoor.test")
    assert joined.organisation == org and joined.role == Role.READ_ONLY
    assert Organisation.objects.count() == 1  # no organisation of their own
    assert ActivityEvent.objects.filter(organisation=org, code="member_joined").exists()
    # spent: the link works once
    client.logout()
    assert client.get(url).status_code == 410


def test_only_owners_invite_and_change_roles(client, django_user_model, owner, org):
    member = member_of(django_user_model, org, "piet", Role.MEMBER)
    reader = member_of(django_user_model, org, "boekhouder", Role.READ_ONLY)
    client.login(username=member.username, password=PASSWORD)
    assert client.get(reverse("accounts:members", args=[org.pk])).status_code == 200
    assert invite(client, org).status_code == 403
    row = Membership.objects.get(user=reader)
    response = client.post(
        reverse("accounts:member_role", args=[org.pk, row.pk]), {f"m{row.pk}-role": Role.OWNER}
    )
    assert response.status_code == 403 and Membership.objects.get(pk=row.pk).role == Role.READ_ONLY
    client.logout()
    client.login(username=owner.username, password=PASSWORD)
    client.post(reverse("accounts:member_role", args=[org.pk, row.pk]), {f"m{row.pk}-role": Role.MEMBER})
    assert Membership.objects.get(pk=row.pk).role == Role.MEMBER
    assert ActivityEvent.objects.filter(organisation=org, code="member_role_changed").exists()


def test_the_last_owner_cannot_be_demoted_or_removed(client, owner, org):
    client.login(username=owner.username, password=PASSWORD)
    mine = Membership.objects.get(user=owner)
    client.post(reverse("accounts:member_role", args=[org.pk, mine.pk]), {f"m{mine.pk}-role": Role.MEMBER})
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER
    client.post(reverse("accounts:member_remove", args=[org.pk, mine.pk]))
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_a_revoked_or_duplicate_invitation(client, owner, org, django_user_model):
    client.login(username=owner.username, password=PASSWORD)
    member_of(django_user_model, org, "piet", Role.MEMBER)
    already = invite(client, org, email="piet@example.test")
    assert already.status_code == 400 and "email" in already.context["invite_form"].errors
    invite(client, org, email="new@example.test")
    invitation = Invitation.objects.get()
    client.post(reverse("accounts:invitation_revoke", args=[org.pk, invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None and not invitation.is_open


def test_a_bookkeeper_switches_between_clients(client, django_user_model, owner, org):
    other = Organisation.objects.create(name="Bakkerij", slug="bakkerij")
    Membership.objects.create(organisation=other, user=owner, role=Role.READ_ONLY)
    client.login(username=owner.username, password=PASSWORD)
    page = client.get(reverse("accounts:organisations"))
    assert {m.organisation.name for m in page.context["memberships"]} == {"De Molen", "Bakkerij"}
    client.post(reverse("accounts:switch"), {"organisation": other.pk})
    assert client.session[CURRENT_ORGANISATION] == other.pk
    assert client.get(reverse("accounts:members")).context["organisation"] == other
    # an organisation they are not in cannot be chosen
    stranger = Organisation.objects.create(name="Vreemd", slug="vreemd")
    assert client.post(reverse("accounts:switch"), {"organisation": stranger.pk}).status_code == 404
    assert client.session[CURRENT_ORGANISATION] == other.pk


def test_another_organisations_member_pages_do_not_exist(client, django_user_model, owner, org):
    other = Organisation.objects.create(name="Ander", slug="ander")
    outsider = member_of(django_user_model, other, "ander", Role.OWNER)
    row = Membership.objects.get(user=owner)
    client.login(username=outsider.username, password=PASSWORD)
    assert client.get(reverse("accounts:members", args=[org.pk])).status_code == 404
    assert invite(client, org).status_code == 404
    assert (
        client.post(
            reverse("accounts:member_role", args=[org.pk, row.pk]), {f"m{row.pk}-role": Role.MEMBER}
        ).status_code
        == 404
    )
    assert client.post(reverse("accounts:member_remove", args=[org.pk, row.pk])).status_code == 404
    assert Membership.objects.get(pk=row.pk).role == Role.OWNER


def test_a_firm_with_many_clients_finds_them_by_name_and_pages(client, owner, monkeypatch):
    from koppeling.web.accounts import context, members

    monkeypatch.setattr(context, "SWITCH_LIST_MAX", 3)
    monkeypatch.setattr(members, "ORGANISATIONS_PER_PAGE", 2)
    for name in ("Bakkerij Aa", "Bakkerij Bb", "Slagerij Cc", "Visboer Dd"):
        other = Organisation.objects.create(name=name, slug=name.lower().replace(" ", "-"))
        Membership.objects.create(organisation=other, user=owner, role=Role.MEMBER)
    client.force_login(owner)

    header = client.get(reverse("accounts:organisations")).content.decode().split("</header>")[0]
    assert 'id="organisation-find"' in header  # five organisations > 3: a search, no list
    assert '<select id="organisation-switch"' not in header and "Bakkerij Bb" not in header

    def listed(**query):
        return client.get(reverse("accounts:organisations"), query).content.decode().split("</header>")[1]

    found = listed(q="bakkerij")
    assert "Bakkerij Aa" in found and "Bakkerij Bb" in found and "Slagerij" not in found
    first, second = listed(), listed(page=2)
    assert "Bakkerij Aa" in first and "Bakkerij Aa" not in second and 'rel="prev"' in second

    chosen = Organisation.objects.get(name="Visboer Dd")  # past the first three by name
    client.post(reverse("accounts:switch"), {"organisation": chosen.pk})
    header = client.get(reverse("accounts:organisations")).content.decode().split("</header>")[0]
    assert "Visboer Dd" in header


def test_a_few_clients_are_a_list_in_the_header(client, owner, org):
    other = Organisation.objects.create(name="Tweede", slug="tweede")
    Membership.objects.create(organisation=other, user=owner, role=Role.MEMBER)
    client.force_login(owner)
    header = client.get(reverse("accounts:organisations")).content.decode().split("</header>")[0]
    assert '<select id="organisation-switch"' in header and "Tweede</option>" in header
