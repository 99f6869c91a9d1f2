"""Template helpers: history lines in plain words, numbers without trailing zeros, colour said in words."""

from challenge_cards.templatetags.cc_tags import change_lines, number, rating_tag, status_tag


def test_change_lines_in_plain_words():
    changes = {
        "status": ["in_progress", "at_risk"],
        "metric_value": ["28.00", "18.50"],
        "due_date": [None, "2026-12-08"],
        "omb_rating": ["", "red"],
        "action": [None, 7],
    }
    assert change_lines(changes) == [
        "Status: In progress → At risk",
        "Value now: 28.00 → 18.50",
        "Due date: Dec 8, 2026",
        "OMB rating: Red",
    ]


def test_number_drops_trailing_zeros():
    assert [number(400), number("12.50"), number("1234567.10"), number(None)] == ["400", "12.5", "1,234,567.1", "—"]


def test_tags_say_the_colour_and_status_in_words():
    assert "OMB: Red</span>" in rating_tag("red", "OMB:")
    assert "Agency: Not rated" in rating_tag("", "Agency:")
    assert ">At risk</span>" in status_tag("at_risk")
