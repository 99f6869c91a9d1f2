"""Profile pages for personal API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .models import ApiToken
from .tokens import MAX_EXPIRES_DAYS, token_create, token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, such as “Treasury tracker nightly sync”.")
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_EXPIRES_DAYS,
        initial=90,
        help_text="Leave empty for a token that does not expire. Shorter is safer.",
    )


def _page(request: HttpRequest, form: TokenForm, *, new_token: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    assert user.is_authenticated  # the pages are behind login_required
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
    context = {"nav": "profile", "form": form, "tokens": tokens, "new_token": new_token, "now": timezone.now()}
    return render(request, "agencies/api_tokens.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        _token, raw = token_create(
            user=request.user, name=form.cleaned_data["name"], expires_days=form.cleaned_data["expires_days"]
        )
    except ValidationError as error:
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
        return _page(request, form, status=400)
    # Rendered, not redirected: the secret exists only in this response and is never stored.
    return _page(request, TokenForm(), new_token=raw)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(actor=request.user, token=token)
    messages.success(request, f"The token “{token.name}” is revoked. Tools using it can no longer sign in.")
    return redirect("api_tokens:list")
