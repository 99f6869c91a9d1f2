"""The conversation on a card: post a comment, edit your own within 15 minutes (a correction later is a new one)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from challenge_cards import selectors as card_selectors
from challenge_cards.views._common import add_errors
from core.exceptions import StaleWrite

from .. import forms, services
from ..models import Comment


def _in_timeline(comment: Comment) -> str:
    return reverse("challenge_cards:card_detail", args=[comment.card_id]) + f"#comment-{comment.pk}"


@require_POST
@login_required
def comment_post(request: HttpRequest, pk: int) -> HttpResponse:
    card = card_selectors.card_detail(request.user, pk)
    form = forms.CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = services.comment_post(actor=request.user, card=card, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Comment posted.")
            return redirect(_in_timeline(comment))
    return render(request, "council/comment_form.html", {"card": card, "form": form, "nav": "cards"}, status=400)


@require_http_methods(["GET", "POST"])
@login_required
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.visible_to(request.user).select_related("card__agency"), pk=pk)
    if not services.can_edit(request.user, comment):
        raise PermissionDenied("Only the author edits a comment, for 15 minutes. Post a new comment to correct it.")
    form = forms.CommentEditForm(request.POST or None, initial={"body": comment.body, "version": comment.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_edit(
                actor=request.user,
                comment=comment,
                body=form.cleaned_data["body"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleWrite:
            form.add_error(None, "You edited this comment elsewhere after opening this page. Check it and save again.")
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Comment edited; the earlier text is kept in the record.")
            return redirect(_in_timeline(comment))
    status = 400 if request.method == "POST" else 200
    context = {"card": comment.card, "comment": comment, "form": form, "nav": "cards"}
    return render(request, "council/comment_form.html", context, status=status)
