"""Pages for deputy secretaries, delegates and OMB admins."""

from django.urls import include, path

from . import views

app_name = "challenge_cards"

urlpatterns = [
    path("", views.home, name="home"),
    path("cards/", views.card_list, name="card_list"),
    path("cards/issue/", views.card_issue, name="card_issue"),
    path("cards/<int:pk>/", views.card_detail, name="card_detail"),
    path("cards/<int:pk>/actions/", views.action_add, name="action_add"),
    path("cards/<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("cards/<int:pk>/review/", views.card_review, name="card_review"),
    path("updates/<int:pk>/certify/", views.update_certify, name="update_certify"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("actions/<int:pk>/<slug:op>/", views.action_change, name="action_change"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/schedule/", views.meeting_schedule, name="meeting_schedule"),
    path("meetings/schedule-next/", views.meeting_schedule_next, name="meeting_schedule_next"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("review/", views.review_board, name="review_board"),
    path("agencies/", views.agency_list, name="agency_list"),
    path("", include("challenge_cards.urls_meeting_prep")),
]
