"""The one API router for the site: every app registers its viewsets here (under /api/v1/)."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
