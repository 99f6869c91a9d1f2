import datetime
import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, Membership, Role
from challenge_cards import services
from challenge_cards.models import (
    ActionStatus,
    BriefingPacket,
    CardUpdate,
    ChallengeCard,
    FollowUpAction,
    Meeting,
    PmaPriority,
    PmaStrategy,
    Rating,
    UpdateKind,
)
from tests import factories

pytestmark = pytest.mark.django_db

OUR_MODELS = [model for model in admin.site._registry if model._meta.app_label in {"agencies", "challenge_cards"}]


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def form_data(response) -> dict:
    """The POST a browser would send for an admin change form as rendered."""
    data = {}

    def add(form) -> None:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            widget = bound.field.widget
            if hasattr(widget, "widgets"):  # split date and time
                for index, part in enumerate(widget.decompress(value)):
                    data[f"{bound.html_name}_{index}"] = part
            else:
                data[bound.html_name] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


@pytest.fixture
def some_of_everything(card, admin_user, deputy):
    services.action_add(actor=admin_user, card=card, description="Share the certificate")
    services.card_update(actor=deputy, card=card, expected_version=None, status="in_progress")
    factories.PmaStrategyFactory(priority=card.priority)
    BriefingPacket.objects.create(meeting=card.meeting, requested_by=admin_user)
    return card


def test_every_model_is_registered_searchable_and_filterable():
    assert {m.__name__ for m in OUR_MODELS} >= {
        "Agency",
        "Membership",
        "OmbRole",
        "PmaPriority",
        "Meeting",
        "ChallengeCard",
        "FollowUpAction",
        "CardUpdate",
    }
    for model in OUR_MODELS:
        model_admin = admin.site._registry[model]
        assert model_admin.search_fields, model
        assert model_admin.list_filter, model


def test_omb_admin_opens_every_changelist_and_change_page(client, admin_user, some_of_everything):
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200
    for model in OUR_MODELS:
        assert client.get(changelist(model), {"q": "a"}).status_code == 200, model
        obj = model.objects.first()
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200, model
    for model in (Agency, Meeting, ChallengeCard):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        assert client.get(url).status_code == 200, model


def test_omb_viewer_without_is_staff_may_view_but_not_change(client, omb_viewer_user, some_of_everything):
    assert not omb_viewer_user.is_staff
    response = client.post(
        reverse("admin:login"), {"username": "omb.viewer", "password": factories.PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    for model in OUR_MODELS:
        assert client.get(changelist(model)).status_code == 200, model
    assert client.get(reverse("admin:challenge_cards_challengecard_add")).status_code == 403
    assert client.get(reverse("admin:agencies_agency_add")).status_code == 403
    card_page = client.get(reverse("admin:challenge_cards_challengecard_change", args=[some_of_everything.pk]))
    assert card_page.status_code == 200
    assert b'name="omb_rating"' not in card_page.content


def test_deputy_secretary_cannot_use_the_admin(client, deputy, some_of_everything):
    deputy.is_staff = True  # even a staff flag does not let an agency user in
    deputy.save()
    client.force_login(deputy)
    for model in OUR_MODELS:
        response = client.get(changelist(model))
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), model
    response = client.post(
        reverse("admin:login"), {"username": "deputy.treas", "password": factories.PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200
    assert "OMB admin or viewer account" in response.content.decode()


def test_card_changelist_costs_the_same_queries_for_more_cards(client, admin_user, meeting, priority):
    client.force_login(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(changelist(ChallengeCard)).status_code == 200
        return len(captured)

    factories.ChallengeCardFactory.create_batch(2, meeting=meeting, priority=priority)
    few = queries()
    factories.ChallengeCardFactory.create_batch(8, meeting=meeting, priority=priority)
    assert queries() == few


def seed_demo() -> None:
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO(), verbosity=0)


def test_after_seed_demo_an_omb_admin_issues_one_card_to_five_agencies_with_one_action(client):
    seed_demo()
    admin_user = get_user_model().objects.get(username="omb.admin")
    client.force_login(admin_user)
    five = list(Agency.objects.filter(abbreviation__in=["USDA", "DOC", "DOD", "ED", "DOE"]))
    selection = {"action": "issue_card_to_agencies", "_selected_action": [a.pk for a in five]}
    page = client.post(changelist(Agency), selection)
    assert page.status_code == 200
    assert "Issue a challenge card" in page.content.decode()
    next_meeting = Meeting.objects.next_meeting()
    assert page.context["form"]["meeting"].value() == next_meeting.pk
    priority = PmaPriority.objects.get(number=1)
    strategy = PmaStrategy.objects.get(priority=priority, number=1)
    before = timezone.now() - datetime.timedelta(seconds=1)
    response = client.post(
        changelist(Agency),
        {
            **selection,
            "apply": "yes",
            "meeting": next_meeting.pk,
            "title": "Run a second pooled hiring action",
            "ask": "Hire at least five data scientists from OPM's next pooled certificate.",
            "priority": priority.pk,
            "strategy": strategy.pk,
            "horizon": "month",
            "metric_name": "Data scientists hired",
            "metric_unit": "people",
            "metric_baseline": "0",
            "metric_target": "5",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Issued to 5 agencies" in response.content.decode()
    for agency in five:
        deputy = Membership.objects.current().get(agency=agency, role=Role.DEPUTY_SECRETARY).user
        cards = ChallengeCard.objects.filter(issued_to=deputy, title="Run a second pooled hiring action")
        assert cards.count() == 1
        history = cards.get().updates.get()
        assert history.kind == UpdateKind.ISSUED
        assert history.author == admin_user
        assert history.created_at >= before
    card = ChallengeCard.objects.get(agency=five[0], title="Run a second pooled hiring action")
    card_page = client.get(reverse("admin:challenge_cards_challengecard_change", args=[card.pk]))
    assert "omb.admin" in card_page.content.decode()


def test_issue_action_shows_service_errors_on_the_form(client, admin_user, agency, other_agency, meeting, priority):
    other_strategy = factories.PmaStrategyFactory(priority=factories.PmaPriorityFactory(number=2))
    client.force_login(admin_user)
    response = client.post(
        changelist(Agency),
        {
            "action": "issue_card_to_agencies",
            "_selected_action": [agency.pk, other_agency.pk],
            "apply": "yes",
            "meeting": meeting.pk,
            "title": "Ramp up CX capacity",
            "ask": "Staff a CX team.",
            "priority": priority.pk,
            "strategy": other_strategy.pk,
            "horizon": "month",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["strategy"] == ["That strategy belongs to another PMA priority."]
    assert not ChallengeCard.objects.exists()


def test_card_add_form_issues_through_the_service(client, admin_user, agency, deputy, meeting, priority):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:challenge_cards_challengecard_add"),
        {
            "meeting": meeting.pk,
            "agency": agency.pk,
            "title": "Set in-person presence",
            "ask": "At least half of headquarters staff in person.",
            "priority": priority.pk,
            "horizon": "year",
        },
    )
    assert response.status_code == 302
    card = ChallengeCard.objects.get()
    assert card.issued_to == deputy and card.issued_by == admin_user
    assert card.due_date == services.default_due_date(meeting)
    assert card.updates.get().kind == UpdateKind.ISSUED


def test_omb_review_in_admin_goes_through_card_review(client, admin_user, card):
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_challengecard_change", args=[card.pk])
    data = form_data(client.get(url))
    data.update(omb_rating=Rating.YELLOW, review_note="Slipping.")
    assert client.post(url, data).status_code == 302
    card.refresh_from_db()
    assert (card.omb_rating, card.version) == (Rating.YELLOW, 2)
    review = card.updates.get(kind=UpdateKind.OMB_REVIEW)
    assert (review.author, review.note) == (admin_user, "Slipping.")


def test_stale_omb_review_in_admin_is_refused_with_a_form_error(client, admin_user, card):
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_challengecard_change", args=[card.pk])
    data = form_data(client.get(url))
    assert data["version"] == 1
    services.card_review(actor=admin_user, card=card, expected_version=1, omb_rating=Rating.RED)
    data.update(omb_rating=Rating.GREEN)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Someone else updated this after you opened it" in response.content.decode()
    card.refresh_from_db()
    assert (card.omb_rating, card.version) == (Rating.RED, 2)


def test_agency_fields_are_read_only_for_omb(client, admin_user, card):
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_challengecard_change", args=[card.pk])
    data = form_data(client.get(url))
    for field in ("status", "agency_rating", "metric_value", "title"):
        assert field not in data
    data.update(status="done", omb_rating=Rating.GREEN)
    assert client.post(url, data).status_code == 302
    card.refresh_from_db()
    assert card.status == "not_started" and card.omb_rating == Rating.GREEN


def test_adding_a_follow_up_action_inline_calls_action_add(client, admin_user, card, delegate):
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_challengecard_change", args=[card.pk])
    data = form_data(client.get(url))
    data.update({"actions-2-0-description": "Send the hiring plan to OMB", "actions-2-0-owner": delegate.pk})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    action = card.actions.get()
    assert (action.owner, action.created_by, action.status) == (delegate, admin_user, ActionStatus.OPEN)
    assert card.updates.get(kind=UpdateKind.ACTION).author == admin_user


def test_a_refused_inline_action_rolls_back_the_review_on_the_same_page(client, admin_user, card, other_deputy):
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_challengecard_change", args=[card.pk])
    data = form_data(client.get(url))
    data.update(
        {"omb_rating": Rating.GREEN, "actions-2-0-description": "Wrong owner", "actions-2-0-owner": other_deputy.pk}
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The owner must belong to this agency." in response.content.decode()
    card.refresh_from_db()
    assert (card.omb_rating, card.version) == ("", 1)
    assert not CardUpdate.objects.exists() and not FollowUpAction.objects.exists()


def test_follow_up_actions_are_completed_and_dropped_through_services(client, admin_user, card):
    first = services.action_add(actor=admin_user, card=card, description="First")
    second = services.action_add(actor=admin_user, card=card, description="Second")
    client.force_login(admin_user)
    url = changelist(FollowUpAction)
    response = client.post(url, {"action": "complete_actions", "_selected_action": [first.pk]}, follow=True)
    assert "Completed 1 action." in response.content.decode()
    page = client.post(url, {"action": "drop_actions", "_selected_action": [second.pk]})
    assert page.status_code == 200 and "reason" in page.context["form"].fields
    client.post(url, {"action": "drop_actions", "_selected_action": [second.pk], "apply": "yes", "reason": "Merged."})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ActionStatus.DONE and first.version == 2
    assert (second.status, second.dropped_reason) == (ActionStatus.DROPPED, "Merged.")
    assert card.updates.filter(kind=UpdateKind.ACTION).count() == 4
    assert client.get(reverse("admin:challenge_cards_followupaction_add")).status_code == 403


def test_meetings_are_scheduled_changed_and_cancelled_through_services(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:challenge_cards_meeting_add"),
        {"starts_at_0": "2030-03-12", "starts_at_1": "10:00:00", "duration_minutes": "90", "location": "EEOB"},
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.created_by == admin_user and meeting.starts_at_eastern.hour == 10
    url = reverse("admin:challenge_cards_meeting_change", args=[meeting.pk])
    data = form_data(client.get(url))
    data.update(location="Room 430")
    assert client.post(url, data).status_code == 302
    clash = factories.MeetingFactory()
    data = form_data(client.get(reverse("admin:challenge_cards_meeting_change", args=[clash.pk])))
    data.update(starts_at_0="2030-03-12", starts_at_1="10:00:00")
    refused = client.post(reverse("admin:challenge_cards_meeting_change", args=[clash.pk]), data)
    assert refused.status_code == 200
    assert "Another meeting is already scheduled at that time." in refused.content.decode()
    client.post(changelist(Meeting), {"action": "cancel_meetings", "_selected_action": [meeting.pk]})
    meeting.refresh_from_db()
    assert (meeting.location, meeting.status) == ("Room 430", Meeting.Status.CANCELLED)
    assert client.get(url).context["has_change_permission"] is False


def test_a_meeting_edited_on_a_stale_page_does_not_revert_a_change_made_since(client, admin_user, meeting):
    client.force_login(admin_user)
    url = reverse("admin:challenge_cards_meeting_change", args=[meeting.pk])
    data = form_data(client.get(url))
    assert data["loaded_updated_at"]
    services.meeting_update(actor=admin_user, meeting=meeting, location="Roosevelt Room")  # someone else, meanwhile
    data.update(agenda_notes="New agenda")
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Someone else changed this meeting after you opened it." in refused.content.decode()
    meeting.refresh_from_db()
    assert (meeting.location, meeting.agenda_notes) == ("Roosevelt Room", "")
    data = form_data(client.get(url))
    data.update(agenda_notes="New agenda")
    assert client.post(url, data).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.location, meeting.agenda_notes) == ("Roosevelt Room", "New agenda")


def test_card_history_admin_is_read_only(client, admin_user, card, deputy):
    update = services.card_update(actor=deputy, card=card, expected_version=None, status="in_progress")
    model_admin = admin.site._registry[CardUpdate]
    request = type("Request", (), {"user": admin_user})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, update)
    assert not model_admin.has_delete_permission(request, update)
    client.force_login(admin_user)
    assert client.get(reverse("admin:challenge_cards_cardupdate_add")).status_code == 403
    change_url = reverse("admin:challenge_cards_cardupdate_change", args=[update.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change_url, {"note": "rewritten"}).status_code == 403
    assert client.post(reverse("admin:challenge_cards_cardupdate_delete", args=[update.pk])).status_code == 403
    update.refresh_from_db()
    assert update.note == ""
    card_page = client.get(reverse("admin:challenge_cards_challengecard_change", args=[card.pk]))
    history = next(i for i in card_page.context["inline_admin_formsets"] if i.formset.model is CardUpdate)
    assert not history.has_add_permission and not history.has_change_permission
    assert [form.instance for form in history.formset.forms] == [update]


def test_omb_admin_manages_people_but_not_superusers(client, admin_user, deputy):
    boss = get_user_model().objects.create_superuser("root", "root@example.gov", "a-long-root-password")
    client.force_login(admin_user)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    page = client.get(reverse("admin:auth_user_change", args=[deputy.pk]))
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content and b'name="first_name"' in page.content
    assert client.get(reverse("admin:auth_user_change", args=[boss.pk])).context["has_change_permission"] is False
    assert client.get(reverse("admin:auth_user_password_change", args=[boss.pk])).status_code == 403
    assert client.post(reverse("admin:auth_user_delete", args=[deputy.pk]), {"post": "yes"}).status_code == 403


def test_card_add_form_refuses_a_duplicate_title_with_a_form_error(client, admin_user, card):
    client.force_login(admin_user)
    data = {
        "meeting": card.meeting.pk,
        "agency": card.agency.pk,
        "title": card.title,
        "ask": "Again.",
        "priority": card.priority.pk,
        "horizon": "month",
    }
    response = client.post(reverse("admin:challenge_cards_challengecard_add"), data)
    assert response.status_code == 200
    assert "already has a card with that title" in response.content.decode()
    assert ChallengeCard.objects.count() == 1


def test_cards_are_carried_over_with_an_admin_action(client, admin_user, card):
    later = factories.MeetingFactory()
    client.force_login(admin_user)
    response = client.post(
        changelist(ChallengeCard), {"action": "carry_over_to_next_meeting", "_selected_action": [card.pk]}, follow=True
    )
    assert "Carried over 1 card." in response.content.decode()
    successor = ChallengeCard.objects.get(carried_over_from=card)
    assert successor.meeting == later and successor.issued_by == admin_user
