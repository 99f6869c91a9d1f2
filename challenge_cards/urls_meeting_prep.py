"""Meeting preparation pages, included into challenge_cards.urls (same namespace)."""

from django.urls import path

from . import views_meeting_prep as views

urlpatterns = [
    path("meetings/<int:pk>/packet/", views.meeting_packet, name="meeting_packet"),
    path("meetings/<int:pk>/packet/build/", views.packet_build, name="packet_build"),
    path("packets/<int:pk>/download/", views.packet_download, name="packet_download"),
    path("meetings/<int:pk>/agencies/<int:agency_pk>/brief/", views.agency_brief, name="agency_brief"),
    path("meetings/<int:pk>/agencies/<int:agency_pk>/brief.pdf", views.agency_brief_pdf, name="agency_brief_pdf"),
    path("meetings/<int:pk>/close/", views.meeting_close, name="meeting_close"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard.csv", views.scorecard_export, {"file_format": "csv"}, name="scorecard_csv"),
    path("scorecard.xlsx", views.scorecard_export, {"file_format": "xlsx"}, name="scorecard_xlsx"),
    path("cards/export.csv", views.card_export, {"file_format": "csv"}, name="card_export_csv"),
    path("cards/export.xlsx", views.card_export, {"file_format": "xlsx"}, name="card_export_xlsx"),
    path("actions/export.csv", views.action_export, {"file_format": "csv"}, name="action_export_csv"),
    path("actions/export.xlsx", views.action_export, {"file_format": "xlsx"}, name="action_export_xlsx"),
    path("cards/<int:pk>/interim-targets/", views.interim_target_add, name="interim_target_add"),
]
