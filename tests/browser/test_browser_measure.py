"""The measure page in a real browser: one rendered chart per site, annotations, no console errors."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_lead_sees_an_spc_chart_for_every_site_with_annotations(sign_in, page, screenshot):
    sign_in("lead")
    page.goto("/p/clabsi/measures/bundle-compliance/")
    page.wait_for_load_state("networkidle")
    cards = page.locator("section.site-chart")
    assert cards.count() == 24
    page.wait_for_function(
        "document.querySelectorAll('section.site-chart .chart svg, "
        "section.site-chart .chart canvas').length === 24",
        timeout=30_000,
    )
    first = cards.first
    assert first.locator(".chart svg, .chart canvas").count() == 1
    assert page.locator('ul.annotations li[data-kind="phase"]').count() >= 24
    assert page.locator(".variation").count() == 24
    screenshot("measure-page-lead")
    assert page.console_errors == []


def test_hovering_a_point_shows_its_value_and_rules(sign_in, page):
    sign_in("site")
    page.goto("/p/clabsi/measures/bundle-compliance/")
    page.wait_for_selector("section.site-chart .chart svg")
    point = page.locator("section.site-chart .chart svg path[role='graphics-symbol']").last
    point.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="attached", timeout=5_000)
    assert "Signal" in tooltip.inner_text()
    assert page.console_errors == []


def test_the_at_a_glance_board_renders_for_the_lead(sign_in, page, screenshot):
    sign_in("lead")
    page.goto("/p/clabsi/")
    page.click("text=Measures at a glance")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "At a glance"
    assert page.locator("table.glance tbody tr").count() == 24
    screenshot("at-a-glance-lead")
    assert page.console_errors == []


def test_the_funnel_plot_renders(sign_in, page):
    sign_in("lead")
    page.goto("/p/clabsi/measures/bundle-compliance/funnel/?months=3")
    page.wait_for_selector(".chart svg, .chart canvas", timeout=30_000)
    assert page.console_errors == []


def test_arrow_keys_and_enter_move_between_entry_grid_cells(sign_in, page, screenshot):
    sign_in("site")
    page.goto("/p/clabsi/entry/?layout=measures")
    page.wait_for_load_state("networkidle")
    grid = page.locator("form[data-entry-grid]")
    assert grid.locator("tbody tr").count() == 12
    first = grid.locator('tr[data-row="0"] input[data-col="0"]')
    first.click()

    def focused() -> list[str]:
        return page.evaluate(
            "() => [document.activeElement.closest('tr').dataset.row,"
            " document.activeElement.dataset.col]"
        )

    assert focused() == ["0", "0"]
    page.keyboard.press("ArrowDown")
    assert focused() == ["1", "0"]
    page.keyboard.press("ArrowRight")  # the whole value is selected on arrival: move on
    assert focused() == ["1", "1"]
    page.keyboard.press("Enter")  # moves down instead of submitting
    assert focused() == ["2", "1"]
    page.keyboard.press("ArrowUp")
    assert focused() == ["1", "1"]
    page.keyboard.press("ArrowLeft")
    assert focused() == ["1", "0"]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # no row above the first: stays
    assert focused() == ["0", "0"]
    assert page.url.endswith("/entry/?layout=measures")  # nothing submitted
    screenshot("entry-grid-measures")
    assert page.console_errors == []
