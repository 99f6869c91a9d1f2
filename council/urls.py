from django.urls import path

from .views import comments, initiatives, records

app_name = "council"

urlpatterns = [
    path("initiatives/", initiatives.initiative_list, name="initiative_list"),
    path("initiatives/new/", initiatives.initiative_new, name="initiative_new"),
    path("initiatives/export.csv", initiatives.initiative_export, {"file_format": "csv"}, name="initiative_csv"),
    path("initiatives/export.xlsx", initiatives.initiative_export, {"file_format": "xlsx"}, name="initiative_xlsx"),
    path("initiatives/across-meetings/", initiatives.initiative_meetings, name="initiative_meetings"),
    path("initiatives/pages/", initiatives.initiative_pages, name="initiative_pages"),
    path("initiatives/<int:pk>/", initiatives.initiative_detail, name="initiative_detail"),
    path("initiatives/<int:pk>/cards/", initiatives.initiative_cards_add, name="initiative_cards_add"),
    path(
        "initiatives/<int:pk>/cards/<int:card_pk>/remove/",
        initiatives.initiative_card_remove,
        name="initiative_card_remove",
    ),
    path("initiatives/<int:pk>/sharing/", initiatives.initiative_share, name="initiative_share"),
    path("cards/<int:pk>/comments/", comments.comment_post, name="comment_post"),
    path("comments/<int:pk>/edit/", comments.comment_edit, name="comment_edit"),
    path("meetings/<int:pk>/record/", records.record_detail, name="record_detail"),
    path("meetings/<int:pk>/record.pdf", records.record_pdf, name="record_pdf"),
    path("meetings/<int:pk>/record/attendance/", records.record_attendance, name="record_attendance"),
    path("meetings/<int:pk>/record/minutes/", records.record_minutes, name="record_minutes"),
    path("meetings/<int:pk>/record/correction/", records.record_correct, name="record_correct"),
]
