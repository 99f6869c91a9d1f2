"""factory_boy factories for every model; tests build exactly the rows they need."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Agency, Membership, OmbRole, Role
from challenge_cards.models import (
    EASTERN,
    CardUpdate,
    ChallengeCard,
    FollowUpAction,
    Meeting,
    PmaPriority,
    PmaStrategy,
    UpdateKind,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gov")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("abbreviation",)

    name = factory.Sequence(lambda n: f"Department of Example Affairs {n}")
    abbreviation = factory.Sequence(lambda n: f"DEA{n}")
    cfo_act = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.DEPUTY_SECRETARY


class OmbRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OmbRole

    user = factory.SubFactory(UserFactory)
    kind = OmbRole.Kind.ADMIN


def deputy_of(agency: Agency, **kwargs):
    return MembershipFactory(agency=agency, role=Role.DEPUTY_SECRETARY, **kwargs).user


def delegate_of(agency: Agency, **kwargs):
    return MembershipFactory(agency=agency, role=Role.DELEGATE, **kwargs).user


def viewer_of(agency: Agency, **kwargs):
    return MembershipFactory(agency=agency, role=Role.VIEWER, **kwargs).user


def omb_admin(**kwargs):
    return OmbRoleFactory(kind=OmbRole.Kind.ADMIN, **kwargs).user


def omb_viewer(**kwargs):
    return OmbRoleFactory(kind=OmbRole.Kind.VIEWER, **kwargs).user


class PmaPriorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PmaPriority
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda p: f"Priority {p.number}")
    short_title = factory.LazyAttribute(lambda p: f"Priority {p.number}")


class PmaStrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PmaStrategy

    priority = factory.SubFactory(PmaPriorityFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Strategy {n}")


def _next_meeting_time(n: int) -> datetime.datetime:
    base = timezone.now().astimezone(EASTERN).replace(hour=10, minute=0, second=0, microsecond=0)
    return base + datetime.timedelta(days=14 + 28 * n)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    starts_at = factory.Sequence(_next_meeting_time)
    location = "Eisenhower Executive Office Building"


class ChallengeCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChallengeCard

    meeting = factory.SubFactory(MeetingFactory)
    agency = factory.SubFactory(AgencyFactory)
    issued_at = factory.LazyFunction(timezone.now)
    title = factory.Sequence(lambda n: f"Run a pooled hiring action ({n})")
    ask = "Join an OPM pooled hiring action for data scientists and report the hires."
    priority = factory.SubFactory(PmaPriorityFactory)
    due_date = factory.LazyAttribute(lambda card: (card.meeting.starts_at + datetime.timedelta(days=28)).date())


class FollowUpActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpAction

    card = factory.SubFactory(ChallengeCardFactory)
    description = factory.Sequence(lambda n: f"Follow-up action {n}")
    owner_name = "Chief Human Capital Officer"
    due_date = factory.LazyAttribute(lambda action: action.card.due_date)


class CardUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CardUpdate

    card = factory.SubFactory(ChallengeCardFactory)
    kind = UpdateKind.UPDATE
    author = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)
    note = "Progress this month."
