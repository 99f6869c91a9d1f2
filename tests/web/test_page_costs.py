"""Pages that cost the same whatever the size of the council (issue 17): the card list (newest first, the
agency typed, any page as cheap as the first), the scorecard (50 agencies a page), OMB's review board and
home (their reads over every open card kept until a card or action changes), each pinned in SQL queries
at 3 agencies and at 30."""

from __future__ import annotations

import datetime
import re
from html import unescape
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from challenge_cards import selectors, services
from challenge_cards.models import ChallengeCard
from core.pagination import Position
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(priority):
    """A held meeting and the next one, and a way to add agencies with a deputy and cards at the held one."""
    held = factories.MeetingFactory(starts_at=timezone.now() - datetime.timedelta(days=20), status="held")
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=10))
    agencies: list = []

    def add(count: int, cards_each: int = 2) -> None:
        for _ in range(count):
            n = len(agencies)
            agency = factories.AgencyFactory(name=f"Agency {n:03}", abbreviation=f"AG{n:03}")
            factories.deputy_of(agency)
            agencies.append(agency)
            ChallengeCard.objects.bulk_create(
                ChallengeCard(
                    meeting=held,
                    agency=agency,
                    issued_at=held.starts_at + datetime.timedelta(minutes=n * 10 + i),
                    title=f"Card {i} of {agency.abbreviation}",
                    ask="Do the thing.",
                    priority=priority,
                    due_date=timezone.localdate() + datetime.timedelta(days=i - 1),
                    omb_rating=["", "red"][i % 2],
                )
                for i in range(cards_each)
            )

    return {"held": held, "agencies": agencies, "add": add, "priority": priority}


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


PAGES = [
    ("admin", "/review/", 6),
    ("admin", "/", 4),
    ("deputy", "/", 6),
    ("admin", "/scorecard/", 6),
    ("admin", "/cards/", 5),
    ("admin", "/cards/?page=2", 5),
    ("deputy", "/cards/", 5),
]


@pytest.mark.parametrize(("who", "url", "expected"), PAGES)
def test_each_page_costs_the_same_queries_at_3_agencies_and_at_30(client, council, admin_user, who, url, expected):
    council["add"](3, cards_each=20)
    user = admin_user if who == "admin" else council["agencies"][0].memberships.get().user
    client.force_login(user)
    small = _queries(client, url)
    council["add"](27, cards_each=20)
    assert (small, _queries(client, url)) == (expected, expected)


def test_the_card_list_is_newest_first_and_a_deep_page_reads_only_its_rows(client, council, admin_user):
    council["add"](3, cards_each=20)  # 60 cards: three pages of 25
    client.force_login(admin_user)
    newest = list(ChallengeCard.objects.order_by("-issued_at", "-id").values_list("title", flat=True))
    first = client.get(reverse("challenge_cards:card_list"))
    assert [card.title for card in first.context["cards"].object_list] == newest[:25]
    assert "60 cards." in first.content.decode() and "Page 1 of 3" in first.content.decode()
    last = client.get(reverse("challenge_cards:card_list"), {"page": 3})
    assert [card.title for card in last.context["cards"].object_list] == newest[50:]
    assert not last.context["cards"].has_next
    past = client.get(reverse("challenge_cards:card_list"), {"page": 9, "status": "not_started"}).content.decode()
    assert "There is no page 9: the list ends before it." in past
    assert 'href="?status=not_started&amp;page=1">Go to the first page</a>' in past


def _link(html: str, way: str) -> dict[str, str] | None:
    """The query of the page's next or previous link (None: the page has none)."""
    found = re.search(rf'href="\?([^"]*)" class="usa-pagination__link usa-pagination__{way}-page"', html)
    return None if found is None else dict(parse_qsl(unescape(found[1])))


def _walk(client, url: str, query: dict[str, str], way: str) -> list[tuple[int, list[str], dict[str, str]]]:
    """Follow the `way` links from `query`'s page to the end: each page's number, titles and query."""
    pages = []
    while query is not None:
        assert len(pages) < 10, "the links go round"
        response = client.get(url, query)
        assert response.status_code == 200
        page = response.context["cards"]
        pages.append((page.number, [card.title for card in page.object_list], query))
        query = _link(response.content.decode(), way)
    return pages


def test_the_card_list_s_next_and_previous_links_walk_every_card_once_by_cursor(client, council, admin_user):
    council["add"](4, cards_each=20)  # 80 cards: four pages of 25, the last of 5
    client.force_login(admin_user)
    url = reverse("challenge_cards:card_list")
    newest = list(ChallengeCard.objects.order_by("-issued_at", "-id").values_list("title", flat=True))
    forward = _walk(client, url, {}, "next")
    assert [number for number, _, _ in forward] == [1, 2, 3, 4]
    assert [title for _, titles, _ in forward for title in titles] == newest
    assert [sorted(query) for _, _, query in forward[1:]] == [["cursor"]] * 3  # no page numbers: cursors
    back = _walk(client, url, forward[-1][2], "previous")
    assert [(number, titles) for number, titles, _ in back] == [(n, t) for n, t, _ in reversed(forward)]
    assert back[-1][2] == {"page": "1"}  # page 2's previous link is page 1's own address
    html = client.get(url, forward[2][2]).content.decode()
    assert "<title>Cards, page 3" in html and "Page 3 of 4" in html and "80 cards." in html


def test_a_card_list_page_reached_by_its_link_is_read_by_key_not_by_offset(client, council, admin_user):
    council["add"](4, cards_each=20)
    client.force_login(admin_user)
    url = reverse("challenge_cards:card_list")
    third = _link(client.get(url, {"page": 2}).content.decode(), "next")  # a jump by number, then its link
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, third).context["cards"]
    assert (page.number, len(queries)) == (3, 5)  # as many queries as page 1 (test_each_page_costs_...)
    read = next(query["sql"] for query in queries if "total_up_to" in query["sql"])
    assert "OFFSET" not in read and re.search(r'\(\S+\."issued_at", \S+\."id"\) < \(', read), read  # the key
    by_number = client.get(url, {"page": 3}).context["cards"]
    assert [card.pk for card in page.object_list] == [card.pk for card in by_number.object_list]


def test_the_card_list_s_links_keep_its_filters_and_repeat_no_card_when_cards_are_issued(client, council, admin_user):
    def in_progress_from(agency) -> None:  # half of the agency's cards move on
        cards = ChallengeCard.objects.filter(agency=agency).order_by("id").values_list("pk", flat=True)
        ChallengeCard.objects.filter(pk__in=list(cards)[::2]).update(status="in_progress")

    council["add"](3, cards_each=20)
    for agency in council["agencies"]:
        in_progress_from(agency)  # 30 of the 60 cards
    client.force_login(admin_user)
    url = reverse("challenge_cards:card_list")
    first = client.get(url, {"status": "in_progress"})
    second = _link(first.content.decode(), "next")
    assert second is not None and second.pop("status") == "in_progress" and list(second) == ["cursor"]
    council["add"](1, cards_each=20)  # newer cards, 10 of them in progress: the numbers shift, the cursor's place not
    newer = ChallengeCard.objects.filter(agency=council["agencies"][-1])
    newer.update(issued_at=F("issued_at") + datetime.timedelta(days=1))  # after every card listed before
    in_progress_from(council["agencies"][-1])
    after = client.get(url, {"status": "in_progress", **second}).context["cards"].object_list
    moving = ChallengeCard.objects.filter(status="in_progress").order_by("-issued_at", "-id")
    newest = list(moving.values_list("pk", flat=True))
    assert [card.pk for card in first.context["cards"].object_list] == newest[10:35]  # page 1 then
    assert [card.pk for card in after] == newest[35:]  # the 5 after page 1's last: the filter kept, none twice


@pytest.mark.parametrize(
    "cursor",
    ["not a cursor", "x" * 2000, Position(("-issued_at", "-id"), (timezone.now(), 1)).token(ChallengeCard)],
    ids=["tampered", "too long", "an API cursor (no page number)"],
)
def test_a_card_list_link_not_made_here_shows_the_first_page_and_says_so(client, council, admin_user, cursor):
    council["add"](2, cards_each=20)
    client.force_login(admin_user)
    response = client.get(reverse("challenge_cards:card_list"), {"cursor": cursor})
    newest = list(ChallengeCard.objects.order_by("-issued_at", "-id").values_list("pk", flat=True))
    assert response.status_code == 200
    assert [card.pk for card in response.context["cards"].object_list] == newest[:25]
    assert "That link to a page of this list is not valid any more, so this is the first page." in (
        response.content.decode()
    )


def test_the_scorecard_s_links_walk_its_agencies_both_ways_and_a_bad_link_says_so(client, council, admin_user):
    council["add"](120, cards_each=1)  # three pages of 50 agencies
    client.force_login(admin_user)
    url = reverse("challenge_cards:scorecard")
    names = sorted(agency.name for agency in council["agencies"])

    def shown(query: dict[str, str]) -> tuple[int, list[str], str]:
        response = client.get(url, {"meeting": str(council["held"].pk), **query})
        card = response.context["scorecard"]
        return card.page.number, [row.agency.name for row in card.rows], response.content.decode()

    third = _link(shown(_link(shown({})[2], "next"))[2], "next")
    assert third is not None and shown(third)[:2] == (3, names[100:])
    back = _link(shown(third)[2], "previous")  # a cursor before page 3's first agency
    assert back is not None and "cursor" in back and shown(back)[:2] == (2, names[50:100])
    number, first, html = shown({"cursor": "not a cursor"})
    assert (number, first) == (1, names[:50]) and "That link to a page of this list is not valid any more" in html


def test_going_back_to_the_start_of_the_card_list_shows_the_first_page(client, council, admin_user):
    council["add"](3, cards_each=20)
    client.force_login(admin_user)
    url = reverse("challenge_cards:card_list")
    newest = list(ChallengeCard.objects.order_by("-issued_at", "-id").values_list("pk", flat=True))
    third = _link(client.get(url, {"page": 2}).content.decode(), "next")
    back = _link(client.get(url, third).content.decode(), "previous")  # page 2: before page 3's first card
    ChallengeCard.objects.filter(pk__in=newest[:25]).delete()  # now exactly a page before that card
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, back).context["cards"]
    assert (page.number, page.has_previous, [card.pk for card in page.object_list]) == (1, False, newest[25:50])
    assert len(queries) == 5  # the rows read were the first page: not read again
    assert 'aria-label="Previous page"' not in client.get(url, back).content.decode()


def test_going_back_past_the_start_of_the_card_list_shows_the_first_page(client, council, admin_user):
    council["add"](3, cards_each=20)
    client.force_login(admin_user)
    url = reverse("challenge_cards:card_list")
    third = _link(client.get(url, {"page": 2}).content.decode(), "next")
    back = _link(client.get(url, third).content.decode(), "previous")  # page 2, before page 3's first card
    newest = list(ChallengeCard.objects.order_by("-issued_at", "-id").values_list("pk", flat=True))
    ChallengeCard.objects.filter(pk__in=newest[:40]).delete()  # now fewer than a page before that card
    page = client.get(url, back).context["cards"]
    assert (page.number, [card.pk for card in page.object_list]) == (1, newest[40:])


def test_the_card_list_total_is_exact_up_to_a_bound_and_then_says_more_than(council, admin_user):
    council["add"](1, cards_each=5)
    cards = selectors.card_list(admin_user)
    assert (selectors.list_page(cards, "1", 2, exact_up_to=5).total, "exact") == (5, "exact")
    capped = selectors.list_page(cards, "2", 2, exact_up_to=3)
    assert (capped.total_is_exact, capped.num_pages, capped.has_next) == (False, None, True)
    assert [c.pk for c in capped.object_list] == list(cards.values_list("pk", flat=True)[2:4])


def test_the_card_list_agency_is_typed_and_the_page_does_not_list_agencies(client, council, admin_user):
    council["add"](3)
    client.force_login(admin_user)
    url = reverse("challenge_cards:card_list")
    small = client.get(url).content.decode()
    council["add"](40)
    page = client.get(url).content.decode()
    assert page.count("<option") == small.count("<option")  # the pickers left do not grow with the council
    assert '<input type="text" name="agency"' in page and 'id="id_agency-hint"' in page
    agency = council["agencies"][1]
    for typed in (agency.abbreviation.lower(), agency.name, str(agency.pk)):
        shown = client.get(url, {"agency": typed})
        assert {card.agency for card in shown.context["cards"].object_list} == {agency}, typed
    by_id = client.get(url, {"agency": agency.pk}).content.decode()
    assert f'value="{agency.abbreviation}"' in by_id  # an agency's id (older links) is shown as its abbreviation
    nothing = client.get(url, {"agency": "No such agency"}).content.decode()
    assert "No cards match these filters. Check the agency" in nothing


def test_the_scorecard_shows_fifty_agencies_a_page_and_the_downloads_every_agency(client, council, admin_user):
    council["add"](60, cards_each=1)
    client.force_login(admin_user)
    url = reverse("challenge_cards:scorecard")
    query = {"meeting": council["held"].pk}
    first = client.get(url, query)
    names = sorted(agency.name for agency in council["agencies"])
    assert [row.agency.name for row in first.context["scorecard"].rows] == names[:50]
    html = first.content.decode()
    assert "Agencies 1 to 50 of 60, by name." in html and "Page 1 of 2" in html
    following = _link(html, "next")  # a cursor, the meeting kept
    assert following is not None and sorted(following) == ["cursor", "meeting"]
    for second in (client.get(url, following), client.get(url, {**query, "page": 2})):  # the link, or a jump
        assert [row.agency.name for row in second.context["scorecard"].rows] == names[50:]
        assert "Agencies 51 to 60 of 60, by name." in second.content.decode()
    csv = client.get(reverse("challenge_cards:scorecard_csv"), query).content.decode("utf-8-sig")
    assert all(name in csv for name in names)


def test_omb_counts_are_kept_until_a_card_or_action_changes_and_then_are_exact_at_once(client, council, admin_user):
    council["add"](3)  # 6 open cards, 3 of them red
    client.force_login(admin_user)
    home = reverse("challenge_cards:home")

    def counts() -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as queries:
            summary = client.get(home).context["summary"]
        return summary["open"], summary["red_or_at_risk"], len(queries)

    assert counts() == (6, 3, 4)  # counted
    assert counts() == (6, 3, 3)  # kept: the same figures without counting again
    card = ChallengeCard.objects.filter(omb_rating="red").first()
    services.card_review(actor=admin_user, card=card, expected_version=None, omb_rating="green")
    assert counts()[:2] == (6, 2)  # a review through the service shows at once
    factories.ChallengeCardFactory(
        meeting=council["held"], agency=council["agencies"][0], priority=council["priority"], omb_rating="red"
    )
    assert counts()[:2] == (7, 3)  # so does a card saved any other way
    council["add"](1)  # and cards bulk-created
    assert counts()[:2] == (9, 4)
    factories.FollowUpActionFactory(card=card, due_date=timezone.localdate() - datetime.timedelta(days=1))
    assert client.get(home).context["summary"]["with_overdue_actions"] == 1  # and an action


def test_omb_counts_follow_the_agency_s_updates_and_actions_through_the_services(client, council, admin_user):
    """The services that write cards and actions save them (updated_at): OMB's kept counts see each change."""
    council["add"](1)
    agency = council["agencies"][0]
    deputy = agency.memberships.get().user
    card = ChallengeCard.objects.filter(agency=agency, omb_rating="").get()
    late = factories.FollowUpActionFactory(card=card, due_date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(admin_user)
    home = reverse("challenge_cards:home")
    before = client.get(home).context["summary"]
    assert (before["red_or_at_risk"], before["with_overdue_actions"]) == (1, 1)
    services.card_update(actor=deputy, card=card, expected_version=card.version, status="at_risk", note="Stalled.")
    assert client.get(home).context["summary"]["red_or_at_risk"] == 2
    services.action_complete(actor=deputy, action=late, expected_version=late.version)
    assert client.get(home).context["summary"]["with_overdue_actions"] == 0


def test_the_board_order_is_kept_until_a_card_changes_and_its_rows_are_read_fresh(client, council, admin_user):
    council["add"](31)  # 62 open cards, 31 of them red: the second page holds two cards that are not
    client.force_login(admin_user)
    board = reverse("challenge_cards:review_board")
    first = [card.pk for card, _ in client.get(board).context["rows"]]
    assert [card.pk for card, _ in client.get(board).context["rows"]] == first
    later = [card for card, _ in client.get(board, {"page": 2}).context["rows"]]
    assert len(first) == 60 and len(later) == 2 and later[0].omb_rating == ""
    services.card_review(actor=admin_user, card=later[0], expected_version=None, omb_rating="red")
    page = client.get(board)
    rows = [card for card, _ in page.context["rows"]]
    assert later[0].pk in {card.pk for card in rows if card.omb_rating == "red"}  # on the first page, at once
    assert "62 open cards." in page.content.decode()
