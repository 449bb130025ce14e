"""A site team logs an adaptation and finds it on the measure's chart; the lead reads the cross-site view."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_site_lead_logs_an_adaptation_and_sees_it_on_the_chart(sign_in, page, screenshot):
    sign_in("site")
    page.click("text=Zero central line infections in intensive care")
    page.click("nav.programme-nav >> text=Fidelity and adaptation")
    page.click("text=Adaptation log")
    page.click("text=Log an adaptation")
    page.wait_for_load_state("networkidle")
    page.fill("#id_title", "Browser-logged: line dressing changed by the outreach team")
    page.fill("#id_date_effective", "2025-09-01")
    page.select_option("#id_when_phase", "maintenance")
    page.select_option("#id_planned", "planned_reactive")
    page.get_by_label("Who may stop a non-compliant insertion (adaptable form)").check()
    page.get_by_label("Substituting").check()
    page.get_by_label("Central line infections per 1,000 line days").check()
    page.click("button:has-text('Log adaptation')")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == (
        "Browser-logged: line dressing changed by the outreach team"
    )
    assert "Fidelity-consistent" in page.locator(".fidelity-tag").first.inner_text()
    assert page.locator(".caveat").inner_text().startswith("Association, not proof.")
    assert page.locator("article.evidence").count() == 1
    page.wait_for_selector("article.evidence .chart svg")
    screenshot("adaptation-detail-site")

    page.goto("/p/clabsi/measures/clabsi-rate/?site=RA1-GICU")
    page.wait_for_load_state("networkidle")
    marks = page.locator("ul.annotations li[data-kind=adaptation]").filter(
        has_text="Browser-logged: line dressing"
    )
    assert marks.count() == 1
    assert "1 Sept 2025" in marks.inner_text() or "1 Sep 2025" in marks.inner_text()
    screenshot("measure-chart-with-adaptation")
    assert page.console_errors == []


def test_a_refused_adaptation_names_the_field_to_fix(sign_in, page):
    sign_in("site")
    page.goto("/p/clabsi/adaptations/new/")
    page.fill("#id_title", "No date")
    page.click("button:has-text('Log adaptation')")
    page.wait_for_load_state("networkidle")
    errors = page.locator(".field.invalid .error").all_inner_texts()
    assert "In use from: This field is required." in errors


def test_the_lead_sees_fidelity_of_function_and_what_adaptations_did(sign_in, page, screenshot):
    sign_in("lead")
    page.goto("/p/clabsi/fidelity/")
    assert page.locator("h1").inner_text() == "Fidelity of function, not form"
    assert page.locator("table.fidelity-matrix tbody tr").count() == 24
    assert page.locator("td.cell-lost").count() >= 1
    assert (
        page.locator("a.cell-lost").count() >= 1
    )  # a site with a fidelity-inconsistent adaptation
    assert page.locator("caption", has_text="By type of modification").count() == 1
    screenshot("fidelity-cross-site-lead")
    assert page.console_errors == []


def test_the_facilitator_sees_unmet_stage_gates_and_a_move_without_a_reason_is_refused(
    sign_in, page, screenshot
):
    sign_in("facilitator")
    page.click("text=Zero central line infections in intensive care")
    page.click("text=Greyhurst General ICU")
    page.wait_for_load_state("networkidle")
    gates = page.locator(".fidelity-panel li.gate")
    assert gates.count() >= 3
    assert page.locator(".fidelity-panel li.gate-unmet", has_text="A site lead named").count() == 1
    page.click("summary:has-text('Move phase through the stage gates')")
    page.select_option(".fidelity-panel #id_to_phase", "implementing")
    page.fill(".fidelity-panel #id_effective_on", "2026-07-01")
    page.fill(".fidelity-panel #id_reason", "Staffing restored; the unit restarts the bundle")
    page.click(".fidelity-panel button:has-text('Record phase change')")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Move Greyhurst General ICU")
    assert "Not met: A site lead named for the unit" in page.locator(".errors").inner_text()
    assert page.locator("label", has_text="Override “A site lead named for the unit”").count() == 1
    screenshot("stage-gates-refused-facilitator")
    # The refused form comes back as 422, which Chromium logs; nothing else may.
    assert [e for e in page.console_errors if "422" not in e] == []
