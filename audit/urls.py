"""The audit log export, under /audit/."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [path("export/", views.audit_export, name="export")]
