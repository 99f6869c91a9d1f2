"""The system-use notice and the second step of sign-in, under /accounts/."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("notice/", views.system_use_notice, name="notice"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("mfa/app/", views.mfa_add_app, name="mfa_add_app"),
    path("mfa/key-added/", views.mfa_added_key, name="mfa_added_key"),
    path("mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("mfa/remove/", views.mfa_remove, name="mfa_remove"),
]
