"""The profile page: who you are, your roles, and (for a deputy secretary) the certification setting."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import services
from .forms import CertificationForm
from .models import Agency, Membership
from .roles import roles_of


@require_GET
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    roles = roles_of(request.user)
    memberships = list(Membership.objects.current().filter(user=request.user).select_related("agency"))
    certification = [
        (
            m.agency,
            CertificationForm(
                initial={"certification_required": m.agency.certification_required}, prefix=f"a{m.agency_id}"
            ),
        )
        for m in memberships
        if m.agency_id in roles.deputy_of
    ]
    context = {"nav": "profile", "roles": roles, "memberships": memberships, "certification": certification}
    return render(request, "agencies/profile.html", context)


@require_POST
@login_required
def certification_set(request: HttpRequest, pk: int) -> HttpResponse:
    agency = get_object_or_404(Agency.objects.visible_to(request.user), pk=pk)
    if pk not in roles_of(request.user).deputy_of:
        raise PermissionDenied("Only the agency's deputy secretary turns certification on or off.")
    form = CertificationForm(request.POST, prefix=f"a{pk}")
    form.is_valid()
    required = bool(form.cleaned_data.get("certification_required"))
    services.agency_set_certification(actor=request.user, agency=agency, required=required)
    messages.success(
        request,
        "Delegates' updates now wait for your certification."
        if required
        else "Delegates' updates now take effect at once.",
    )
    return redirect("agencies:profile")
