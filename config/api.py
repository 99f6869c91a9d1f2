"""The one API router for the site: every app registers its viewsets here (under /api/v1/).

Register new viewsets above `urlpatterns`; the global REST_FRAMEWORK settings (token and
session auth, problem-details errors, throttling, pagination, NUL-safe parsing and
filtering, the OpenAPI schema) then apply to them with no code of their own.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from agencies.api.views import AgencyViewSet, MeView
from challenge_cards.api.due import MeDueView
from challenge_cards.api.views import ChallengeCardViewSet, FollowUpActionViewSet, MeetingViewSet
from core.api.docs import ApiDocsView
from core.api.errors import api_not_found
from council.api.views import CommentViewSet, InitiativeViewSet, MeetingRecordViewSet
from notifications.api import NotificationViewSet

router = DefaultRouter()
router.register("agencies", AgencyViewSet, basename="agency")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("cards", ChallengeCardViewSet, basename="card")
router.register("actions", FollowUpActionViewSet, basename="action")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("comments", CommentViewSet, basename="comment")
router.register("meeting-records", MeetingRecordViewSet, basename="meeting-record")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("me/due/", MeDueView.as_view(), name="api-me-due"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("challenge_cards.api.exports")),  # before the router: cards/<pk> would take "export.csv"
    path("", include(router.urls)),
    re_path(r"^.*$", api_not_found),
]
