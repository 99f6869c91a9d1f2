"""Keyboard-only operation: Tab reaches every control of every form, in order, and focus is visible."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CONTROLS = "main form :is(input:not([type=hidden]), select, textarea, button)"
# A radio group is one Tab stop (arrow keys move inside it), so its radios share one mark.
MARK_CONTROLS = f"""() => {{
    const controls = [...document.querySelectorAll("{CONTROLS}")].filter(el => !el.closest('details:not([open])'));
    const marks = new Set();
    controls.forEach((el, i) => {{
        const forms = [...document.forms];
        el.dataset.kb = el.type === 'radio' ? `radio-${{forms.indexOf(el.form)}}-${{el.name}}` : String(i);
        marks.add(el.dataset.kb);
    }});
    return [...marks];
}}"""


def tab_through(page) -> set[str]:
    """Press Tab from the top of the page until focus leaves the page; return the form controls reached.

    Chromium's own date-picker button inside a date field draws its own focus ring ('browser').
    """
    reached: set[str] = set()
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.click(2, 2)  # start sequential focus at the top of the page (not at an autofocused field)
    for _ in range(400):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "() => { const el = document.activeElement; if (!el || el === document.body) return null;"
            " const tile = el.matches('.usa-radio__input, .usa-checkbox__input') ? el.nextElementSibling : null;"
            " const style = tile ? getComputedStyle(tile, '::before') : getComputedStyle(el);"
            " const uaPart = el.matches('[type=date], [type=time]') && !el.matches(':focus');"
            " return {kb: el.dataset ? el.dataset.kb || '' : '', outline: uaPart ? 'browser' : style.outlineStyle,"
            " name: el.name || el.id}; }"
        )
        if info is None:
            break
        if info["kb"]:
            reached.add(info["kb"])
            assert info["outline"] != "none", f"focus must be visible on {info['name']}"
        if page.evaluate("document.activeElement.closest('footer') !== null"):
            break
    return reached


def assert_every_control_reachable(page, what: str) -> None:
    marks = set(page.evaluate(MARK_CONTROLS))
    assert marks, what
    missing = sorted(marks - tab_through(page))
    names = [page.locator(f"[data-kb='{mark}']").first.evaluate("el => el.name || el.textContent") for mark in missing]
    assert not missing, f"{what}: Tab never reaches {names}"


def test_tab_reaches_every_form_control(page, live_server, world, sign_in):
    base = live_server.url
    page.goto(base + "/accounts/login/")
    assert_every_control_reachable(page, "sign-in")

    sign_in(world["deputy"])
    page.goto(base + world["card"].get_absolute_url())
    for summary in page.locator("details.cc-disclosure > summary").all():
        summary.focus()
        page.keyboard.press("Enter")  # a disclosure opens from the keyboard
    assert_every_control_reachable(page, "card page")
    page.goto(f"{base}/actions/{world['action'].pk}/")
    assert_every_control_reachable(page, "follow-up action page")
    page.goto(base + "/profile/")
    assert_every_control_reachable(page, "profile")
    page.goto(base + "/cards/")
    assert_every_control_reachable(page, "card filters")

    sign_in(world["admin"])
    for path in ("/meetings/", "/cards/issue/", "/review/"):
        page.goto(base + path)
        assert_every_control_reachable(page, path)
