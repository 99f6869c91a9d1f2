"""Template helpers for meeting preparation: the trend chart, a card's trend section, a meeting's agenda links."""

from __future__ import annotations

from django import template

from agencies.models import Agency
from agencies.roles import roles_of
from challenge_cards import briefings, trends
from challenge_cards.models import CardUpdate, Certification, InterimTarget

register = template.Library()


@register.simple_tag
def trend_chart(trend: trends.Trend, chart_id: str):
    return trends.chart_svg(trend, chart_id=chart_id)


@register.inclusion_tag("challenge_cards/meeting_prep/_card_trend_section.html", takes_context=True)
def card_trend(context, card):
    """The card page's metric trend: two queries (its applied history and interim targets)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    trend = None
    if card.has_metric:
        history = CardUpdate.objects.visible_to(user).filter(card=card).exclude(certification=Certification.PENDING)
        interim = list(InterimTarget.objects.filter(card=card).order_by("date"))
        trend = trends.trend_for(card, history, interim)
    roles = roles_of(user)
    can_add = (
        card.is_open and card.metric_target is not None and (roles.omb_admin or roles.may_edit_agency(card.agency_id))
    )
    # A refused interim target comes back with what was typed (views.meeting_prep.interim_target_add).
    typed = request.POST if request is not None and request.method == "POST" and "date" in request.POST else {}
    return {
        "card": card,
        "trend": trend,
        "can_add_interim": can_add,
        "csrf_token": context.get("csrf_token"),
        "interim_typed": {"date": typed.get("date", ""), "value": typed.get("value", "")} if typed else None,
    }


@register.inclusion_tag("challenge_cards/meeting_prep/_meeting_agenda_section.html", takes_context=True)
def meeting_agenda(context, meeting):
    """Links to the packet, scorecard and close-out, and the cards carried over to this meeting, with their counts."""
    request = context.get("request")
    user = getattr(request, "user", None)
    roles = roles_of(user)
    # Listed on the one meeting each card was carried over to (later agendas list it with the other open cards).
    carried = list(
        briefings.agenda_cards(user, meeting)
        .filter(meeting=meeting, carried_over_from__isnull=False)
        .select_related("agency", "carried_over_from__meeting")
        .order_by("agency__name", "title")
    )
    own = [] if roles.is_omb else list(Agency.objects.filter(pk__in=roles.member_agency_ids).order_by("name"))
    return {"meeting": meeting, "carried": carried, "roles": roles, "own_agencies": own}
