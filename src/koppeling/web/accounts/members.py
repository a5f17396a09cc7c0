"""Organisations, members and roles, invitations, and switching between organisations.

Everyone in an organisation sees its members; only owners invite, change roles and remove. An
organisation always keeps one owner: the last one cannot be demoted or removed (they may hand the
role to someone else first). Every change is in the organisation's activity log, with who did it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from koppeling.sync.models import ActivityEvent, Membership, Organisation, Role

from ..access import current_organisation, organisations_for, require, role_in, set_current_organisation
from ..models import Invitation
from .codes import AccountCode
from .forms import InviteForm, OrganisationForm, RoleForm
from .signin import _next_url, create_organisation


def _log(org: Organisation, code: str, **params) -> None:
    ActivityEvent.objects.create(organisation=org, code=code, params=params)


def _organisation(request: HttpRequest, org: int | None) -> Organisation:
    """The organisation in the URL (404 unless a member), or the current one."""
    if org is None:
        found = current_organisation(request)
        if found is None:
            raise Http404
        return found
    require(request, org)
    return get_object_or_404(Organisation, pk=org)


def _owners(org: Organisation) -> int:
    return Membership.objects.filter(organisation=org, role=Role.OWNER).count()


# -- organisations and switching ---------------------------------------------------------------------

#: a bookkeeping firm may have a thousand clients: the list is searched and paged
ORGANISATIONS_PER_PAGE = 50


@login_required
def organisations(request: HttpRequest) -> HttpResponse:
    """The organisations the person is in, to switch to; a new one (a bookkeeper's client)."""
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            org = create_organisation(form.cleaned_data["name"], request.user)
        set_current_organisation(request, org)
        messages.success(request, _("Organisation %(org)s created; you are its owner.") % {"org": org.name})
        return redirect("accounts:members")
    query = request.GET.get("q", "").strip()[:100]
    rows = (
        Membership.objects.filter(user=request.user)
        .select_related("organisation")
        .order_by("organisation__name", "organisation__pk")
    )
    if query:
        rows = rows.filter(organisation__name__icontains=query)
    page = Paginator(rows, ORGANISATIONS_PER_PAGE).get_page(request.GET.get("page"))
    current = current_organisation(request)
    return render(
        request,
        "web/accounts/organisations.html",
        {"memberships": page.object_list, "page": page, "q": query, "form": form, "current": current},
    )


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    org = get_object_or_404(organisations_for(request.user), pk=request.POST.get("organisation") or 0)
    set_current_organisation(request, org)
    messages.success(request, _("You are working in %(org)s.") % {"org": org.name})
    return redirect(_next_url(request, reverse("pages:overview")))


# -- members -------------------------------------------------------------------------------------------


def _members_context(request: HttpRequest, organisation: Organisation, invite_form=None) -> dict:
    role = role_in(request.user, organisation)
    rows = list(
        Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__username")
    )
    with_device = set(
        TOTPDevice.objects.filter(user__in=[m.user_id for m in rows], confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    for row in rows:
        row.second_factor = row.user_id in with_device
        row.form = RoleForm(initial={"role": row.role}, prefix=f"m{row.pk}")
    is_owner = role == Role.OWNER
    return {
        "organisation": organisation,
        "memberships": rows,
        "role": role,
        "is_owner": is_owner,
        "owners": sum(1 for m in rows if m.role == Role.OWNER),
        "invitations": organisation.invitations.open().order_by("-created_at") if is_owner else [],
        "invite_form": (invite_form or InviteForm()) if is_owner else None,
    }


@login_required
def members(request: HttpRequest, org: int | None = None) -> HttpResponse:
    organisation = _organisation(request, org)
    return render(request, "web/accounts/members.html", _members_context(request, organisation))


@login_required
@require_POST
def change_role(request: HttpRequest, org: int, pk: int) -> HttpResponse:
    require(request, org, Role.OWNER)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organisation"), pk=pk, organisation_id=org
    )
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles."))
        return redirect("accounts:members", org)
    new = form.cleaned_data["role"]
    if new == membership.role:
        return redirect("accounts:members", org)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == Role.OWNER and new != Role.OWNER and _owners(membership.organisation) <= 1:
            messages.error(request, _("An organisation needs an owner: make someone else owner first."))
            return redirect("accounts:members", org)
        old = locked.role
        locked.role = new
        locked.save(update_fields=["role"])
        _log(
            membership.organisation,
            AccountCode.MEMBER_ROLE_CHANGED,
            user=request.user.get_username(),
            member=membership.user.get_username(),
            old_role=old,
            new_role=new,
        )
    messages.success(
        request,
        _("%(member)s is now %(role)s.")
        % {"member": membership.user.get_username(), "role": Role(new).label},
    )
    return redirect("accounts:members", org)


@login_required
@require_POST
def remove_member(request: HttpRequest, org: int, pk: int) -> HttpResponse:
    """An owner removes someone; anyone may leave (unless they are the last owner)."""
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organisation"), pk=pk, organisation_id=org
    )
    leaving = membership.user_id == request.user.pk
    require(request, org, Role.READ_ONLY if leaving else Role.OWNER)
    with transaction.atomic():
        if membership.role == Role.OWNER and _owners(membership.organisation) <= 1:
            messages.error(request, _("An organisation needs an owner: make someone else owner first."))
            return redirect("accounts:members", org)
        membership.delete()
        if leaving:
            _log(membership.organisation, AccountCode.MEMBER_LEFT, member=membership.user.get_username())
        else:
            _log(
                membership.organisation,
                AccountCode.MEMBER_REMOVED,
                user=request.user.get_username(),
                member=membership.user.get_username(),
            )
    if leaving:
        messages.success(request, _("You left %(org)s.") % {"org": membership.organisation.name})
        return redirect("accounts:organisations")
    messages.success(request, _("%(member)s was removed.") % {"member": membership.user.get_username()})
    return redirect("accounts:members", org)


# -- invitations ---------------------------------------------------------------------------------------


def send_invitation(request: HttpRequest, invitation: Invitation, token: str) -> None:
    url = request.build_absolute_uri(reverse("accounts:accept", args=[token]))
    context = {
        "invitation": invitation,
        "url": url,
        "inviter": request.user.get_username(),
        "role": Role(invitation.role).label,
    }
    subject = _("Invitation to %(org)s in koppeling") % {"org": invitation.organisation.name}
    body = render_to_string("web/accounts/invitation_email.txt", context, request=request)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


@login_required
def invite(request: HttpRequest, org: int | None = None) -> HttpResponse:
    """POST: invite someone (owners). GET: the members page's invitation form."""
    organisation = _organisation(request, org)
    if request.method != "POST":
        return redirect(reverse("accounts:members", args=[organisation.pk]) + "#invite")
    require(request, organisation, Role.OWNER)
    form = InviteForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
            form.add_error("email", _("%(email)s is already a member.") % {"email": email})
    if not form.is_valid():
        context = _members_context(request, organisation, invite_form=form)
        return render(request, "web/accounts/members.html", context, status=400)
    org = organisation.pk
    with transaction.atomic():
        organisation.invitations.open().filter(email=email).update(revoked_at=timezone.now())
        invitation, token = Invitation.issue(organisation, email, form.cleaned_data["role"], request.user)
        _log(
            organisation,
            AccountCode.MEMBER_INVITED,
            user=request.user.get_username(),
            email=email,
            role=invitation.role,
        )
        transaction.on_commit(lambda: send_invitation(request, invitation, token))
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
    return redirect("accounts:members", org)


@login_required
@require_POST
def revoke_invitation(request: HttpRequest, org: int, pk: int) -> HttpResponse:
    require(request, org, Role.OWNER)
    invitation = get_object_or_404(Invitation.objects.open(), pk=pk, organisation_id=org)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    _log(
        invitation.organisation,
        AccountCode.INVITATION_REVOKED,
        user=request.user.get_username(),
        email=invitation.email,
    )
    messages.success(request, _("The invitation of %(email)s was withdrawn.") % {"email": invitation.email})
    return redirect("accounts:members", org)


def join(invitation: Invitation, user) -> Organisation:
    """``user`` takes ``invitation`` (in the caller's transaction): a member with its role."""
    org = invitation.organisation
    membership, created = Membership.objects.get_or_create(
        organisation=org, user=user, defaults={"role": invitation.role}
    )
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
    if created:
        inviter = invitation.invited_by.get_username() if invitation.invited_by else ""
        _log(
            org,
            AccountCode.MEMBER_JOINED,
            user=inviter,
            member=user.get_username(),
            role=membership.role,
            email=invitation.email,
        )
    return org


def accept(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: shown to anyone holding it; a signed-in person accepts it with a POST."""
    invitation = Invitation.by_token(token)
    if invitation is None or not invitation.is_open:
        return render(request, "web/accounts/invitation_gone.html", status=410)
    if request.method == "POST" and request.user.is_authenticated:
        with transaction.atomic():
            already = role_in(request.user, invitation.organisation)
            org = join(invitation, request.user)
        set_current_organisation(request, org)
        if already:
            messages.info(request, _("You were already a member of %(org)s.") % {"org": org.name})
        else:
            messages.success(request, _("You joined %(org)s.") % {"org": org.name})
        return redirect("pages:overview")
    context = {"invitation": invitation, "token": token, "role": Role(invitation.role).label}
    return render(request, "web/accounts/invitation.html", context)
