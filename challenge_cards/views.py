"""Pages. Placeholder views until the web-pages issue builds the USWDS pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import ChallengeCard, Meeting


@login_required
def home(request):
    cards = ChallengeCard.objects.visible_to(request.user).open().with_related()[:50]
    return render(request, "challenge_cards/home.html", {"cards": cards})


@login_required
def card_detail(request, pk: int):
    card = get_object_or_404(ChallengeCard.objects.visible_to(request.user).with_related(), pk=pk)
    return render(request, "challenge_cards/card_detail.html", {"card": card})


@login_required
def meeting_detail(request, pk: int):
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    return render(request, "challenge_cards/meeting_detail.html", {"meeting": meeting})
