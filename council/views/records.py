"""The meeting's record: the page and its PDF; OMB keeps attendance and minutes, then corrects in versions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from challenge_cards.briefings import render_pdf
from challenge_cards.views._common import add_errors
from core.limits import whole_number

from .. import forms, permissions, selectors, services


def _number(request: HttpRequest) -> int | None:
    return whole_number(request.GET.get("version"))


def _page(request: HttpRequest, pk: int, *, status: int = 200, **forms_) -> HttpResponse:
    view = selectors.record_detail(request.user, pk, number=_number(request))
    keeper = permissions.can_keep_record(request.user)
    draft = view.record is None or view.record.status == "draft"
    context = {
        "nav": "meetings",
        "view": view,
        "meeting": view.meeting,
        "can_keep": keeper,
        "attendance_form": forms_.get("attendance_form") or (forms.AttendanceForm() if keeper and draft else None),
        "minutes_form": forms_.get("minutes_form")
        or (forms.MinutesForm(initial={"minutes": view.content["minutes"]}) if keeper and draft else None),
        "correction_form": forms_.get("correction_form")
        or (
            forms.CorrectionForm(initial={"minutes": view.content["minutes"], "version": view.record.version})
            if keeper and not draft and view.record is not None and view.is_latest
            else None
        ),
    }
    return render(request, "council/record_detail.html", context, status=status)


@require_GET
@login_required
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk)


@require_GET
@login_required
def record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.record_detail(request.user, pk, number=_number(request))
    if view.version is None:
        raise PermissionDenied("The record has no PDF until it is published.")
    html = render_to_string(
        "council/record_pdf.html", {"view": view, "meeting": view.meeting, "base_url": settings.SITE_URL}
    )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    name = f"meeting-record-{view.meeting.starts_at_eastern:%Y-%m-%d}-v{view.version.number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _require_keeper(request: HttpRequest) -> None:
    if not permissions.can_keep_record(request.user):
        raise PermissionDenied("Only OMB admins keep the meeting's record.")


@require_POST
@login_required
def record_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    _require_keeper(request)
    form = forms.AttendanceForm(request.POST)
    if form.is_valid():
        try:
            services.record_attendance_set(actor=request.user, meeting=pk, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Attendance recorded.")
            return redirect("council:record_detail", pk=pk)
    return _page(request, pk, status=400, attendance_form=form)


@require_POST
@login_required
def record_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    _require_keeper(request)
    form = forms.MinutesForm(request.POST)
    if form.is_valid():
        try:
            services.record_minutes_set(actor=request.user, meeting=pk, minutes=form.cleaned_data["minutes"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Minutes saved.")
            return redirect("council:record_detail", pk=pk)
    return _page(request, pk, status=400, minutes_form=form)


@require_POST
@login_required
def record_correct(request: HttpRequest, pk: int) -> HttpResponse:
    _require_keeper(request)
    form = forms.CorrectionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.record_correct(
                actor=request.user,
                meeting=pk,
                note=data["note"],
                minutes=data["minutes"],
                expected_version=data["version"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, f"Correction published as version {version.number}; it was sent to the attendees."
            )
            return redirect("council:record_detail", pk=pk)
    return _page(request, pk, status=400, correction_form=form)
