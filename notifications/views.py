"""Pages: the inbox, notification preferences, and the calendar feed (by private token)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.pagination import page_of

from . import calendar, services
from .models import CalendarFeed, Notification, Rule

HELP = {
    Rule.MEETING_REMINDER: "7 and 1 business days before each meeting, with your agency's open cards.",
    Rule.STALE_CARDS: "OMB admins, 2 business days before a meeting: cards with no update since the last one.",
    Rule.CARD_ISSUED: "When the chair issues your agency a new card.",
    Rule.ACTION_OVERDUE: "When a follow-up action you own, or on your agency's cards, is past due.",
    Rule.CARD_UPDATED: "OMB admins: when an agency posts an update on a card you issued.",
    Rule.MENTION: "When someone mentions you in a comment on a card you can see.",
    Rule.MEETING_RECORD: "When the record of a meeting you attended is published or corrected.",
    Rule.MEETING_INVITATION: "Calendar invitations to each PMC meeting, and their updates and cancellations.",
    Rule.DAILY_DIGEST: "One e-mail a day listing the other notifications, instead of one e-mail each"
    " (reminders before meetings still come on their own). On by default for OMB admins.",
}


@require_GET
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    # Grouped by meeting (the latest first), then newest first: a busy cycle reads as one list per meeting.
    notifications = (
        Notification.objects.visible_to(request.user)
        .select_related("meeting")
        .only("pk", "title", "url", "created_at", "read_at", "rule", "recipient_id", "status", "meeting__starts_at")
        .order_by(F("meeting__starts_at").desc(nulls_last=True), "-created_at", "-pk")
    )
    page = page_of(notifications, request.GET.get("page"), 25)
    context: dict[str, Any] = {"nav": "notifications", "page_obj": page}
    context.update(services.delivery_failures_for(request.user))
    return render(request, "notifications/inbox.html", context)


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    if request.POST.get("open") and notification.url:
        return redirect(notification.url)
    return redirect(_next_url(request, "notifications:inbox"))


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("notifications:inbox")


class PreferencesForm(forms.Form):
    def __init__(self, *args, locked: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        for rule in Rule:
            self.fields[rule.value] = forms.BooleanField(
                label=rule.label,
                required=False,
                help_text=HELP[rule]
                + (" Deputy secretaries always get these; they cannot be switched off." if rule in locked else ""),
                disabled=rule in locked,
            )


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    locked = services.locked_rules(request.user)
    current = services.preferences_of(request.user)
    if request.method == "POST":
        form = PreferencesForm(request.POST, initial=current, locked=locked)
        if form.is_valid():
            services.preferences_update(
                user=request.user, enabled={rule: on for rule, on in form.cleaned_data.items() if rule not in locked}
            )
            messages.success(request, "Your notification choices are saved.")
            return redirect("notifications:preferences")
    else:
        form = PreferencesForm(initial=current, locked=locked)
    user = request.user
    assert user.is_authenticated  # login_required
    feed = CalendarFeed.objects.filter(user=user).first()
    feed_url = request.build_absolute_uri(reverse("notifications:calendar_feed", args=[feed.token])) if feed else ""
    context = {"nav": "notifications", "form": form, "feed": feed, "feed_url": feed_url}
    return render(request, "notifications/preferences.html", context)


@require_POST
@login_required
def calendar_replace(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert user.is_authenticated  # login_required
    had = CalendarFeed.objects.filter(user=user).exists()
    services.calendar_feed_replace(user=request.user)
    messages.success(
        request,
        "Your new calendar link is ready. The old one no longer works." if had else "Your calendar link is ready.",
    )
    return redirect("notifications:preferences")


@require_POST
@login_required
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    services.calendar_feed_revoke(user=request.user)
    messages.success(request, "Your calendar link is switched off.")
    return redirect("notifications:preferences")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """No sign-in: calendar apps fetch it; the random token is the key, and replacing it revokes it."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None:
        raise Http404("No such calendar.")
    response = HttpResponse(calendar.feed_ics(feed.user), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="challenge-cards.ics"'
    return response
