"""Pages for deputy secretaries, delegates and OMB admins."""

from django.urls import path

from . import views

app_name = "challenge_cards"

urlpatterns = [
    path("", views.home, name="home"),
    path("cards/<int:pk>/", views.card_detail, name="card_detail"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
]
