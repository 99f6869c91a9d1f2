"""django-otp-webauthn's JSON endpoints for security keys and passkeys, as a second factor only.

Passwordless sign-in is off (OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN), so every endpoint needs a signed-in
session; registering a new key needs a verified session unless the account has no second factor yet (the
library checks). The views ask request.user.is_verified(), so django-otp's middleware wraps them here
rather than every page of the site (it costs a query per request for verified sessions).
"""

from __future__ import annotations

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp.middleware import OTPMiddleware
from django_otp_webauthn import exceptions, views

from .signals import second_factor_changed, second_factor_verified


def _with_otp(view):
    def wrapped(request, *args, **kwargs):
        return OTPMiddleware(lambda req: view(req, *args, **kwargs))(request)

    return wrapped


class CompleteRegistration(views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            second_factor_changed.send(
                sender=type(self), user=self.request.user, request=self.request, kind="webauthn", change="added"
            )
        return response


class CompleteAuthentication(views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        if device.user_id != self.request.user.pk:
            raise exceptions.CredentialUserMismatch()
        super().complete_auth(device)
        second_factor_verified.send(sender=type(self), user=self.request.user, request=self.request, kind="webauthn")


app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        _with_otp(views.BeginCredentialRegistrationView.as_view()),
        name="credential-registration-begin",
    ),
    path("registration/complete/", _with_otp(CompleteRegistration.as_view()), name="credential-registration-complete"),
    path(
        "authentication/begin/",
        _with_otp(views.BeginCredentialAuthenticationView.as_view()),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        _with_otp(CompleteAuthentication.as_view()),
        name="credential-authentication-complete",
    ),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
