"""Agency and membership rules the database enforces."""

import datetime
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, transaction

from agencies.models import Agency, Membership, Role
from tests import factories


@contextmanager
def _refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


def test_one_current_deputy_secretary_per_agency(agency, deputy):
    with _refused():
        factories.deputy_of(agency)


def test_a_former_deputy_and_a_new_one_are_fine(agency):
    factories.deputy_of(agency, started_on=datetime.date(2021, 3, 1), ended_on=datetime.date(2025, 1, 20))
    factories.deputy_of(agency, started_on=datetime.date(2025, 1, 21))
    assert Membership.objects.filter(agency=agency, role=Role.DEPUTY_SECRETARY).count() == 2
    assert Membership.objects.current().filter(agency=agency, role=Role.DEPUTY_SECRETARY).count() == 1


def test_many_delegates_per_agency_are_fine(agency, deputy):
    factories.delegate_of(agency)
    factories.delegate_of(agency)
    assert Membership.objects.filter(agency=agency, role=Role.DELEGATE).count() == 2


def test_one_current_role_per_person_and_agency(agency, deputy):
    with _refused():
        factories.MembershipFactory(user=deputy, agency=agency, role=Role.VIEWER)


def test_membership_cannot_end_before_it_starts(agency):
    with _refused():
        factories.delegate_of(agency, started_on=datetime.date(2025, 1, 21), ended_on=datetime.date(2025, 1, 20))


def test_agency_abbreviation_is_unique(agency):
    with _refused():
        Agency.objects.create(name="Another Treasury", abbreviation=agency.abbreviation)


def test_agency_name_is_unique(agency):
    with _refused():
        Agency.objects.create(name=agency.name, abbreviation="TRX")


def test_agency_needs_an_abbreviation(db):
    with _refused():
        Agency.objects.create(name="Nameless", abbreviation="")


def test_agency_cannot_be_its_own_parent(agency):
    agency.parent_id = agency.pk
    with _refused():
        agency.save()
