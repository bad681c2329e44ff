"""What every phone-sized page must hold, measured in the browser: no horizontal scroll, touch targets of
at least 44 × 44 CSS pixels, and no serious or critical axe-core violation."""

TARGET = 44

# Visible controls a finger must hit, outside the texts shown for annotation (a link inside a prompt or a
# response is inline text, which WCAG's target-size rule exempts) and off-screen ones (the skip link, until
# a keyboard focuses it).
_SMALL_TARGETS = """(minimum) => [...document.querySelectorAll(
    "button, .handle, summary, select, a[href], label:has(input[type=checkbox]), label:has(input[type=radio])"
  )].filter((el) => el.getClientRects().length && !el.closest("[data-content], dialog:not([open]), [hidden]"))
    .map((el) => ({ el, box: el.getBoundingClientRect() }))
    .filter(({ box }) => box.right > 0 && box.left < window.innerWidth) // off screen until focused: a skip link
    .filter(({ box }) => box.width < minimum || box.height < minimum)
    .map(({ el, box }) => `${el.outerHTML.slice(0, 80)}: ${Math.round(box.width)}×${Math.round(box.height)}`)"""


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when nothing scrolls sideways)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def small_targets(page) -> list[str]:
    return page.evaluate(_SMALL_TARGETS, TARGET)


def serious_axe_violations(page) -> tuple[list, str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    return serious, results.generate_report()


def assert_phone_sized(page) -> None:
    assert page.evaluate("window.innerWidth") == 390
    assert horizontal_overflow(page) <= 0, f"{horizontal_overflow(page)} px of horizontal scroll"
    assert small_targets(page) == [], small_targets(page)
    serious, report = serious_axe_violations(page)
    assert serious == [], report
