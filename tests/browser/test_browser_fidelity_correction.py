"""A site lead corrects a fidelity assessment; the lead adds, retires and deletes a component."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_site_lead_corrects_an_assessment_and_the_earlier_version_stays(
    sign_in, page, screenshot
):
    sign_in("site")
    page.click("text=Zero central line infections in intensive care")
    page.click("nav.programme-nav >> text=Fidelity and adaptation")
    page.click("table.fidelity-matrix >> text=Aldbury General ICU")  # the site page
    page.click("text=Fidelity over time and this quarter's assessment")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Fidelity at Aldbury General ICU")
    earlier_before = page.locator("details").count()
    page.get_by_role("link", name="Correct the assessment of Apr 2026").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Correct the assessment of the quarter")
    page.get_by_label("Daily review of line necessity:").select_option("adapted_lost")
    page.get_by_label("Evidence for “Daily review of line necessity”:").fill(
        "Reviewed weekly on the ward round, not daily (browser test)"
    )
    page.click("button:has-text('Save the correction')")
    page.wait_for_load_state("networkidle")
    assert "Assessment corrected" in page.locator("ul.messages").inner_text()
    score_row = page.locator("tr:has(th:text-is('Score')) td")
    assert score_row.last.inner_text().strip() == "75%"
    corrected = page.locator("tr:has(th:text-is('Corrected')) td").last.inner_text()
    assert "by" in corrected
    assert page.locator("details").count() == earlier_before + 1
    screenshot("fidelity-assessment-corrected")
    assert page.console_errors == []


def test_the_lead_adds_retires_and_deletes_a_component(sign_in, page):
    sign_in("lead")
    page.goto("/p/clabsi/components/")
    page.fill("#id_name", "Browser-added line trolley")
    page.select_option("#id_kind", "adaptable_form")
    page.click("button:has-text('Add component')")
    page.wait_for_load_state("networkidle")
    assert "Added “Browser-added line trolley”." in page.locator("ul.messages").inner_text()
    row = page.locator("tr", has_text="Browser-added line trolley")
    row.get_by_role("button", name="Retire Browser-added line trolley").click()
    page.wait_for_load_state("networkidle")
    retired = page.locator("tr", has_text="Browser-added line trolley")
    assert retired.get_by_role("button", name="Bring back Browser-added line trolley").count() == 1
    retired.get_by_role("button", name="Delete Browser-added line trolley").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("tr", has_text="Browser-added line trolley").count() == 0
    assert page.console_errors == []
