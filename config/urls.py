"""Site URLs: pages, the admin, the versioned API and the health check."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from core import health
from core.health import healthz
from core.metrics import metrics_view

admin.site.site_header = "Challenge Cards administration"
admin.site.site_title = "Challenge Cards admin"
admin.site.index_title = "OMB administration"

# A request refused before any view (a bad Host header): a problem under /api/, Django's page elsewhere.
handler400 = "core.api.errors.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/live", health.live, name="healthz_live"),
    path("healthz/ready", health.ready, name="healthz_ready"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api")),
    path("profile/tokens/", include("agencies.token_urls")),
    # The system-use notice and second factors; security keys' endpoints (django-otp-webauthn's, as a second factor).
    path("accounts/", include("accounts.urls")),
    path("accounts/mfa/webauthn/", include("accounts.webauthn")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accessibility/", TemplateView.as_view(template_name="pages/accessibility.html"), name="accessibility"),
    path("privacy/", TemplateView.as_view(template_name="pages/privacy.html"), name="privacy"),
    path(
        "vulnerability-disclosure/",
        TemplateView.as_view(template_name="pages/vulnerability_disclosure.html"),
        name="vulnerability_disclosure",
    ),
    path("oidc/", include("core.oidc_urls")),
    path("audit/", include("audit.urls")),
    path("", include("challenge_cards.urls")),
    path("", include("council.urls")),
    path("", include("agencies.urls")),
    path("", include("notifications.urls")),
]
