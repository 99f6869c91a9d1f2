"""The PMA's priorities and strategies: reference data, edited by OMB admins."""

from __future__ import annotations

from django.contrib import admin

from ..models import PmaPriority, PmaStrategy
from ._common import RoleAccessMixin


class PmaStrategyInline(RoleAccessMixin, admin.TabularInline):
    model = PmaStrategy
    extra = 1
    fields = ("number", "title")


@admin.register(PmaPriority)
class PmaPriorityAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("number", "short_title", "title")
    list_filter = ("number",)
    search_fields = ("title", "short_title", "description", "strategies__title")
    inlines = [PmaStrategyInline]


@admin.register(PmaStrategy)
class PmaStrategyAdmin(RoleAccessMixin, admin.ModelAdmin):
    list_display = ("__str__", "priority")
    list_filter = ("priority",)
    list_select_related = ("priority",)
    search_fields = ("title", "priority__title")
