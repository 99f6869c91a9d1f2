"""Pages for deputy secretaries, delegates and OMB admins."""

from django.urls import path

from .views import actions, cards, closeout, home, meeting_prep, meetings, review

app_name = "challenge_cards"

urlpatterns = [
    path("", home.home, name="home"),
    path("cards/", home.card_list, name="card_list"),
    path("cards/issue/", cards.card_issue, name="card_issue"),
    path("cards/<int:pk>/", cards.card_detail, name="card_detail"),
    path("cards/<int:pk>/actions/", actions.action_add, name="action_add"),
    path("cards/<int:pk>/evidence/", cards.evidence_add, name="evidence_add"),
    path("cards/<int:pk>/review/", review.card_review, name="card_review"),
    path("updates/<int:pk>/certify/", cards.update_certify, name="update_certify"),
    path("actions/<int:pk>/", actions.action_detail, name="action_detail"),
    path("actions/<int:pk>/<slug:op>/", actions.action_change, name="action_change"),
    path("evidence/<int:pk>/", cards.evidence_download, name="evidence_download"),
    path("meetings/", meetings.meeting_list, name="meeting_list"),
    path("meetings/schedule/", meetings.meeting_schedule, name="meeting_schedule"),
    path("meetings/schedule-next/", meetings.meeting_schedule_next, name="meeting_schedule_next"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting_detail"),
    path("review/", review.review_board, name="review_board"),
    path("review/bulk/", review.review_bulk, name="review_bulk"),
    path("agencies/", home.agency_list, name="agency_list"),
    # meeting preparation and close-out
    path("meetings/<int:pk>/packet/", meeting_prep.meeting_packet, name="meeting_packet"),
    path("meetings/<int:pk>/packet/build/", meeting_prep.packet_build, name="packet_build"),
    path("packets/<int:pk>/download/", meeting_prep.packet_download, name="packet_download"),
    path("meetings/<int:pk>/agencies/<int:agency_pk>/brief/", meeting_prep.agency_brief, name="agency_brief"),
    path(
        "meetings/<int:pk>/agencies/<int:agency_pk>/brief.pdf", meeting_prep.agency_brief_pdf, name="agency_brief_pdf"
    ),
    path("meetings/<int:pk>/close/", closeout.meeting_close, name="meeting_close"),
    path("meetings/<int:pk>/close/cards/<int:card_pk>/", closeout.closeout_decide, name="closeout_decide"),
    path("scorecard/", meeting_prep.scorecard, name="scorecard"),
    path("scorecard.csv", meeting_prep.scorecard_export, {"file_format": "csv"}, name="scorecard_csv"),
    path("scorecard.xlsx", meeting_prep.scorecard_export, {"file_format": "xlsx"}, name="scorecard_xlsx"),
    path("cards/export.csv", meeting_prep.card_export, {"file_format": "csv"}, name="card_export_csv"),
    path("cards/export.xlsx", meeting_prep.card_export, {"file_format": "xlsx"}, name="card_export_xlsx"),
    path("actions/export.csv", meeting_prep.action_export, {"file_format": "csv"}, name="action_export_csv"),
    path("actions/export.xlsx", meeting_prep.action_export, {"file_format": "xlsx"}, name="action_export_xlsx"),
    path("cards/<int:pk>/interim-targets/", meeting_prep.interim_target_add, name="interim_target_add"),
]
