"""What the pages share: paging, showing a service's refusal on a form, the stale-write messages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest

from core.pagination import page_of

from .. import permissions

PAGE_SIZE = 25
STALE_MESSAGE = (
    "Someone else updated this card after you opened the page. Their change is shown below; "
    "your entries are kept. Check them and submit again."
)
CERTIFY_STALE_MESSAGE = (
    "Someone else updated this card after you opened the page. The card as it is now is shown below; "
    "check the draft against it and certify again."
)


def paged(request: HttpRequest, queryset: QuerySet, size: int = PAGE_SIZE) -> Page:
    return page_of(queryset, request.GET.get("page"), size)


def query_without_page(request: HttpRequest) -> str:
    """The page's query string without where in the list it is (page number, cursor): what its page
    links add those to."""
    query = request.GET.copy()
    for name in ("page", "cursor"):
        query.pop(name, None)
    return query.urlencode()


def add_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def require_omb(request: HttpRequest) -> None:
    if not permissions.can_see_omb_pages(request.user):
        raise PermissionDenied("This page is for OMB staff.")
