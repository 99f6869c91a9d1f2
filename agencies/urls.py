"""Profile pages."""

from django.urls import path

from . import views

app_name = "agencies"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/certification/<int:pk>/", views.certification_set, name="certification_set"),
]
