"""GET /api/v1/me/due/: the cards and follow-up actions due before the next meeting, for whoever asks.

The same read as the deputy's home page (selectors.due_before_next_meeting): open cards not done and open
actions of open cards, due from today to the next meeting's date, soonest first, with the days left.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from challenge_cards import selectors
from challenge_cards.models import Meeting

DUE_LIMIT = 200


class DueMeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()


class DueItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["card", "action"], help_text="A challenge card or a follow-up action.")
    id = serializers.IntegerField(help_text="The card's or the action's id.")
    title = serializers.CharField(help_text="The card's title or the action's description.")
    due_date = serializers.DateField()
    days_left = serializers.IntegerField(help_text="Calendar days from today (Eastern) to the due date; 0 is today.")
    card_id = serializers.IntegerField(source="card.pk", help_text="The card (for an action, the card it is on).")
    agency = serializers.CharField(source="card.agency.abbreviation")


class DueSerializer(serializers.Serializer):
    next_meeting = DueMeetingSerializer(allow_null=True, help_text="Null when no meeting is scheduled.")
    as_of = serializers.DateField(help_text="Today, Eastern time: days_left counts from here.")
    items = DueItemSerializer(many=True, help_text=f"Soonest first; at most {DUE_LIMIT}.")


class MeDueView(APIView):
    """What you have due before the next PMC meeting: cards and follow-up actions, soonest first."""

    @extend_schema(responses={200: DueSerializer}, operation_id="me_due_retrieve")
    def get(self, request):
        next_meeting = Meeting.objects.visible_to(request.user).next_meeting()
        items = selectors.due_before_next_meeting(request.user, next_meeting, limit=DUE_LIMIT)
        data = {"next_meeting": next_meeting, "as_of": timezone.localdate(), "items": items}
        return Response(DueSerializer(data).data)
