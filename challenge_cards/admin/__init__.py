"""The Django admin for OMB, one module per model group; every card, action and meeting write goes through services.

Who may use the admin is agencies.admin's (OMB roles); the generic service-form plumbing is core.admin's.
"""

from agencies.admin import ReadOnlyMixin, RoleAccessMixin, may_edit_reference_data, may_view_admin

from . import actions, agencies, cards, history, meetings, packets, pma
from ._common import action_form_page, add_service_errors
from .agencies import issue_card_to_agencies
from .history import summarize_changes

__all__ = [
    "ReadOnlyMixin",
    "RoleAccessMixin",
    "action_form_page",
    "actions",
    "add_service_errors",
    "agencies",
    "cards",
    "history",
    "issue_card_to_agencies",
    "may_edit_reference_data",
    "may_view_admin",
    "meetings",
    "packets",
    "pma",
    "summarize_changes",
]
