"""roles_of(user): who a user is, from OMB role and current memberships."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from agencies.roles import NO_ROLES, roles_of
from tests import factories


@pytest.fixture
def irs(agency):
    return factories.AgencyFactory(name="Internal Revenue Service", abbreviation="IRS", parent=agency)


def test_deputy_roles_reach_sub_agencies(agency, irs, deputy):
    roles = roles_of(deputy)
    assert roles.deputy_of == {agency.pk}
    assert roles.agency_ids == {agency.pk, irs.pk}
    assert roles.may_edit_agency(agency.pk)
    assert roles.may_edit_agency(irs.pk)
    assert not roles.acts_on_behalf(agency.pk)
    assert not roles.is_omb


def test_delegate_acts_on_behalf(agency, irs, delegate):
    roles = roles_of(delegate)
    assert roles.delegate_of == {agency.pk}
    assert roles.acts_on_behalf(agency.pk)
    assert roles.acts_on_behalf(irs.pk)


def test_viewer_reads_but_edits_nothing(agency, irs):
    roles = roles_of(factories.viewer_of(agency))
    assert roles.agency_ids == {agency.pk, irs.pk}
    assert not roles.may_edit_agency(agency.pk)
    assert not roles.may_edit_agency(irs.pk)


def test_own_sub_agency_membership_wins_over_the_parent_one(agency, irs):
    user = factories.delegate_of(agency)
    factories.MembershipFactory(user=user, agency=irs, role="viewer")
    roles = roles_of(user)
    assert roles.may_edit_agency(agency.pk)
    assert not roles.may_edit_agency(irs.pk)


def test_omb_roles(admin_user, omb_viewer_user):
    assert roles_of(admin_user).omb_admin and roles_of(admin_user).is_omb
    assert roles_of(omb_viewer_user).omb_viewer and not roles_of(omb_viewer_user).omb_admin


def test_nobody_has_no_roles(db):
    assert roles_of(None) is NO_ROLES
    assert roles_of(AnonymousUser()) is NO_ROLES
    inactive = factories.UserFactory(is_active=False)
    factories.omb_admin(user=inactive)
    assert roles_of(inactive) is NO_ROLES


def test_ended_membership_gives_no_role(agency):
    former = factories.deputy_of(agency, ended_on=datetime.date(2025, 1, 20))
    assert roles_of(former).agency_ids == frozenset()


def test_roles_are_loaded_in_one_query_once_per_user_object(deputy, django_assert_num_queries):
    with django_assert_num_queries(1):
        roles_of(deputy)
    with django_assert_num_queries(0):
        roles_of(deputy)


def test_one_query_reads_omb_role_memberships_and_sub_agencies_together(agency, django_assert_num_queries):
    irs = factories.AgencyFactory(name="Internal Revenue Service", abbreviation="IRS", parent=agency)
    person = factories.delegate_of(agency)
    factories.OmbRoleFactory(user=person, kind="viewer")
    with django_assert_num_queries(1):
        roles = roles_of(person)
    assert roles.omb_viewer and not roles.omb_admin
    assert roles.delegate_of == frozenset({agency.pk})
    assert roles.sub_agency_ids == frozenset({irs.pk})
    assert roles.editable_sub_agency_ids == frozenset({irs.pk})
