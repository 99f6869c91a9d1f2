"""The audit log export (OMB admins): a date range in, JSON lines out, streamed."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render

from agencies.admin import may_edit_reference_data

from .export import events_between, json_lines
from .services import Outcome, audit_record


class ExportForm(forms.Form):
    first = forms.DateField(label="From (UTC date)", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last = forms.DateField(
        label="To (UTC date, included)", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("first") and data.get("last") and data["first"] > data["last"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return data


@login_required
def audit_export(request):
    """OMB admins download the events of a date range as JSON lines (application/x-ndjson) for their SIEM."""
    if not may_edit_reference_data(request.user):
        raise PermissionDenied("Only OMB admins export the audit log.")
    if "first" not in request.GET:
        today = datetime.datetime.now(datetime.UTC).date()
        form = ExportForm(initial={"first": today - datetime.timedelta(days=30), "last": today})
        return render(request, "audit/export.html", {"form": form})
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/export.html", {"form": form}, status=400)
    first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    audit_record(
        action="audit.exported",
        outcome=Outcome.SUCCESS,
        request=request,
        actor=request.user,
        details={"from": first.isoformat(), "to": last.isoformat()},
    )
    response = StreamingHttpResponse(json_lines(events_between(first, last)), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="audit-{first.isoformat()}-to-{last.isoformat()}.jsonl"'
    response["Cache-Control"] = "no-store"
    return response
