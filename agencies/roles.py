"""Who a user is: OMB role and current agency memberships, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.db.compiled import CompiledRead

from .models import Membership, OmbRole, Role

_CACHE_ATTR = "_challenge_cards_roles"


@dataclass(frozen=True)
class UserRoles:
    omb_admin: bool = False
    omb_viewer: bool = False
    deputy_of: frozenset[int] = field(default_factory=frozenset)
    delegate_of: frozenset[int] = field(default_factory=frozenset)
    viewer_of: frozenset[int] = field(default_factory=frozenset)
    # Sub-agencies reached through a parent agency membership (IRS for a Treasury member).
    sub_agency_ids: frozenset[int] = field(default_factory=frozenset)
    editable_sub_agency_ids: frozenset[int] = field(default_factory=frozenset)
    # (role, agency name) of each current membership, by agency name: the header says who is signed in.
    membership_labels: tuple[tuple[str, str], ...] = ()

    @property
    def is_omb(self) -> bool:
        return self.omb_admin or self.omb_viewer

    @property
    def member_agency_ids(self) -> frozenset[int]:
        return self.deputy_of | self.delegate_of | self.viewer_of

    @property
    def agency_ids(self) -> frozenset[int]:
        """Every agency whose cards this user may read."""
        return self.member_agency_ids | self.sub_agency_ids

    def may_edit_agency(self, agency_id: int) -> bool:
        """Deputy secretaries and delegates edit their agency's (and sub-agencies') cards."""
        return agency_id in self.deputy_of or agency_id in self.delegate_of or agency_id in self.editable_sub_agency_ids

    def acts_on_behalf(self, agency_id: int) -> bool:
        """A delegate (not the deputy) acts on behalf of the deputy secretary."""
        return agency_id not in self.deputy_of and self.may_edit_agency(agency_id)


NO_ROLES = UserRoles()


def _build_roles(
    omb_kind: str | None, memberships: list[tuple[int, str, str]], children: list[tuple[int, int]]
) -> UserRoles:
    """UserRoles from the OMB role kind, (agency id, role, agency name) memberships, (sub-agency, parent) ids."""
    by_role: dict[str, set[int]] = {role: set() for role in Role.values}
    for agency_id, role, _ in memberships:
        by_role[role].add(agency_id)
    members = set().union(*by_role.values())
    editors = by_role[Role.DEPUTY_SECRETARY] | by_role[Role.DELEGATE]
    mine = [(child, parent) for child, parent in children if parent in members]
    return UserRoles(
        omb_admin=omb_kind == OmbRole.Kind.ADMIN,
        omb_viewer=omb_kind == OmbRole.Kind.VIEWER,
        deputy_of=frozenset(by_role[Role.DEPUTY_SECRETARY]),
        delegate_of=frozenset(by_role[Role.DELEGATE]),
        viewer_of=frozenset(by_role[Role.VIEWER]),
        sub_agency_ids=frozenset(child for child, _ in mine) - members,
        editable_sub_agency_ids=frozenset(child for child, parent in mine if parent in editors) - members,
        membership_labels=tuple((role, name) for _, role, name in sorted(memberships, key=lambda m: (m[2], m[1]))),
    )


def _roles_queryset(user_id: int):
    """OMB role, current memberships (with the agency's name) and the sub-agencies under them: one UNION ALL."""
    from django.db.models import BigIntegerField, CharField, F, Value
    from django.db.models.functions import Cast

    from .models import Agency

    # Typed NULLs: PostgreSQL takes an untyped NULL in the first branch for text.
    no_id = Cast(Value(None), output_field=BigIntegerField())
    no_text = Cast(Value(None), output_field=CharField())
    omb = (
        OmbRole.objects.filter(user_id=user_id)
        .annotate(tag=Value("omb", output_field=CharField()), first=no_id, second=no_id, label=no_text)
        .order_by()
        .values_list("tag", "kind", "first", "second", "label")
    )
    member = (
        Membership.objects.current()
        .filter(user_id=user_id)
        .annotate(tag=Value("member", output_field=CharField()), second=no_id, label=F("agency__name"))
        .order_by()
        .values_list("tag", "role", "agency_id", "second", "label")
    )
    child = (
        Agency.objects.filter(parent__memberships__user_id=user_id, parent__memberships__ended_on__isnull=True)
        .annotate(tag=Value("child", output_field=CharField()), kind=no_text, label=no_text)
        .order_by()
        .values_list("tag", "kind", "id", "parent_id", "label")
    )
    return omb.union(member, child, all=True)


# No user id is negative: the slot marks where the id goes in the compiled SQL.
_ROLES = CompiledRead(OmbRole, _roles_queryset, slot=-7_000_000_001)


def _load_roles_in_one_query(
    user_id: int,
) -> tuple[str | None, list[tuple[int, str, str]], list[tuple[int, int]]]:
    """The rows of _roles_queryset, by kind.

    Every page and API request asks this once; three round trips here (and one more for the header's
    agency names) were a third of a page's queries. Its SQL is compiled once and kept (core.db.compiled).
    """
    rows = _ROLES.rows(user_id)
    omb_kind: str | None = None
    memberships: list[tuple[int, str, str]] = []
    children: list[tuple[int, int]] = []
    for tag, text, first, second, label in rows:
        if tag == "omb":
            omb_kind = text
        elif tag == "member":
            memberships.append((first, text, label))
        else:
            children.append((first, second))
    return omb_kind, memberships, children


def roles_of(user) -> UserRoles:
    """The user's roles, cached on the user object so a request pays for them once."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_ROLES
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    omb_kind, memberships, children = _load_roles_in_one_query(user.pk)
    roles = _build_roles(omb_kind, memberships, children)
    setattr(user, _CACHE_ATTR, roles)
    return roles


def prime_roles(users) -> None:
    """Load the roles of many users in three queries, so a scan can ask roles_of (and the permissions) per user."""
    from .models import Agency

    users = [u for u in users if u is not None and u.is_active and getattr(u, _CACHE_ATTR, None) is None]
    if not users:
        return
    ids = {u.pk for u in users}
    omb = dict(OmbRole.objects.filter(user_id__in=ids).values_list("user_id", "kind"))
    memberships: dict[int, list[tuple[int, str, str]]] = {}
    for user_id, agency_id, role, name in (
        Membership.objects.current()
        .filter(user_id__in=ids)
        .order_by()
        .values_list("user_id", "agency_id", "role", "agency__name")
    ):
        memberships.setdefault(user_id, []).append((agency_id, role, name))
    members = {agency_id for rows in memberships.values() for agency_id, _, _ in rows}
    children = list(Agency.objects.filter(parent_id__in=members).values_list("id", "parent_id")) if members else []
    for user in users:
        setattr(user, _CACHE_ATTR, _build_roles(omb.get(user.pk), memberships.get(user.pk, []), children))


def forget_roles(user) -> None:
    """Drop the cached roles after a membership change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
