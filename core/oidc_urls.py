"""Single sign-on URLs; they answer 404 while OIDC_RP_CLIENT_ID is unset."""

from django.urls import path

from .oidc import SignInCallbackView, SignInStartView

urlpatterns = [
    path("authenticate/", SignInStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", SignInCallbackView.as_view(), name="oidc_authentication_callback"),
]
