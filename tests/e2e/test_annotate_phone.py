"""The annotator workspace on a phone (iPhone 13 emulation in Debian's Chromium: 390 × 844, touch): ranking
by taps in order of preference (with an undo), by a touch drag on a card's handle, Arabic right to left, and
what every phone-sized page holds: no horizontal scroll, touch targets of 44 px, axe clean."""

import pytest

from tests.conftest import make_annotator
from tests.e2e.phone import assert_phone_sized, horizontal_overflow
from tests.e2e.test_annotate_page import XSS, card_positions
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import Annotation
from webapp.feedback.services import catalog

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def phone_login(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.tap("main button[type=submit]")
    page.wait_for_selector("#ranking .card")


def pick(page, position: int) -> None:
    page.tap(f"#ranking .card[data-position='{position}'] .pick")


def test_a_phone_ranks_by_tapping_in_order_of_preference_with_an_undo_and_submits(live_app, phone_page):
    make_annotator("tomo", ["de"])
    campaign_with_tasks(n_tasks=1, overlap=1, language="de", n_responses=4, name="Handy")
    page = phone_page
    phone_login(page, live_app.url, "tomo")
    assert_phone_sized(page)

    shown = card_positions(page)
    page.tap("#submit")  # nothing chosen yet: refused with a message
    assert "tap them best first" in page.inner_text("#status") and Annotation.objects.count() == 0
    best, second, third, last = shown[3], shown[1], shown[0], shown[2]
    pick(page, best)
    assert card_positions(page)[0] == best
    assert "No. 1" in page.inner_text(f"#ranking .card[data-position='{best}'] .pick")
    pick(page, third)  # a slip: tapped again, it is undone and goes back below the chosen ones
    pick(page, third)
    assert card_positions(page)[0] == best and "Choose as no. 2" in page.inner_text(
        f"#ranking .card[data-position='{third}'] .pick"
    )
    pick(page, second)
    page.tap("#submit")  # three of four chosen is not yet an order
    assert "tap them best first" in page.inner_text("#status")
    pick(page, third)
    assert card_positions(page) == [best, second, third, last]
    assert page.get_attribute(f"#ranking .card[data-position='{second}'] .pick", "aria-pressed") == "true"
    assert_phone_sized(page)  # with the chosen cards' labels
    page.tap("#submit")
    page.wait_for_selector("#empty:not([hidden])")
    (stored,) = Annotation.objects.all()
    assert stored.ranking == [[best], [second], [third], [last]] and stored.display_order == shown


def test_a_touch_drag_on_the_handle_moves_a_card_and_a_tap_ties_it(live_app, phone_page):
    make_annotator("kai", ["de"])
    campaign_with_tasks(n_tasks=1, overlap=1, language="de", n_responses=3, name="Ziehen")
    page = phone_page
    phone_login(page, live_app.url, "kai")
    shown = card_positions(page)
    page.evaluate("document.getElementById('ranking').scrollIntoView()")  # touch points are screen coordinates
    handle = page.locator(f"#ranking .card[data-position='{shown[2]}'] .handle").bounding_box()
    top = page.locator("#ranking .card:first-child").bounding_box()
    start = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    end = (start[0], top["y"] + 5)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    steps = 12
    for step in range(1, steps + 1):
        y = start[1] + (end[1] - start[1]) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": start[0], "y": y}]})
        page.wait_for_timeout(30)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(300)
    dragged = card_positions(page)
    assert dragged[0] == shown[2], (shown, dragged)
    page.tap(f"#ranking .card[data-position='{dragged[1]}'] .tie")
    assert "tied" in page.inner_text(f"#ranking .card[data-position='{dragged[1]}'] .rank")
    page.tap("#submit")
    page.wait_for_selector("#empty:not([hidden])")
    (stored,) = Annotation.objects.all()
    assert stored.ranking == [sorted(dragged[:2]), [dragged[2]]]


def test_arabic_on_a_phone_reads_right_to_left_without_horizontal_scroll(live_app, phone_page):
    make_annotator("amal", ["ar"])
    campaign = catalog.campaign_create(name="عربي", guidelines="**رتّب** الإجابات", languages=["ar"], overlap=1)
    prompt = catalog.prompt_create(content=XSS["prompt"], language="ar")
    long_line = "https://example.org/" + "طويل" * 60
    responses = [
        catalog.response_create(prompt=prompt, content=XSS["response"]),
        catalog.response_create(prompt=prompt, content=f"القاهرة هي عاصمة مصر. {long_line}"),
        catalog.response_create(prompt=prompt, content="```python\nprint('مرحبا' * 80, end='' + 'x' * 120)\n```"),
        catalog.response_create(
            prompt=prompt,
            content="| a | b | c | d | e | f |\n|---|---|---|---|---|---|\n" + "| عمود طويل جدا " * 6 + "|",
        ),
    ]
    catalog.task_create(campaign=campaign, prompt=prompt, responses=responses)
    page = phone_page
    phone_login(page, live_app.url, "amal")
    page.tap("summary")  # the guidelines open, and still fit
    assert page.evaluate("getComputedStyle(document.getElementById('prompt')).direction") == "rtl"
    assert page.evaluate("window.__xss") is None
    assert_phone_sized(page)
    for position in card_positions(page)[:3]:
        pick(page, position)
    assert horizontal_overflow(page) <= 0
    page.tap("#submit")
    page.wait_for_selector("#empty:not([hidden])")
    assert Annotation.objects.count() == 1
