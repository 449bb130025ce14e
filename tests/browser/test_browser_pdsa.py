"""A site team plans a PDSA cycle and finds it on the measure's chart; the lead reads the package."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_site_lead_creates_a_pdsa_cycle_and_sees_it_on_the_measure_chart(
    sign_in, page, screenshot
):
    sign_in("site")
    page.goto("/p/clabsi/cycles/new/")
    page.select_option(
        "#id_change_idea",
        label="Insertion checklist completed by an observing nurse (change package)",
    )
    page.fill("#id_objective", "Browser-planned test of the checklist on the night shift")
    page.fill("#id_predictions", "Eight of ten night insertions with a complete checklist")
    page.fill("#id_start_date", "2026-05-11")
    page.fill("#id_end_date", "2026-05-25")
    page.get_by_label("Insertion and maintenance bundle compliance", exact=True).check()
    page.click("text=Save the cycle")
    page.wait_for_load_state("networkidle")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("PDSA ") and "Insertion checklist" in heading
    cycle_no = heading.split(":")[0]
    page.wait_for_selector(".chart svg, .chart canvas", timeout=30_000)
    assert page.locator(".chart svg, .chart canvas").count() >= 1
    screenshot("pdsa-cycle-site")

    page.goto("/p/clabsi/measures/bundle-compliance/?site=RA1-GICU")
    page.wait_for_load_state("networkidle")
    marks = page.locator("ul.annotations li[data-kind=pdsa]").filter(
        has_text=f"{cycle_no}: Insertion checklist"
    )
    assert marks.count() >= 1
    assert "Browser-planned test" in marks.last.inner_text()
    screenshot("measure-chart-with-pdsa")
    assert page.console_errors == []


def test_a_refused_cycle_names_the_field_to_fix(sign_in, page):
    sign_in("site")
    page.goto("/p/clabsi/cycles/new/")
    page.fill("#id_objective", "No idea chosen")
    page.fill("#id_start_date", "2026-05-11")
    page.click("text=Save the cycle")
    page.wait_for_load_state("networkidle")
    assert (
        page.locator(".field.invalid .error").first.inner_text().startswith("Change idea tested:")
    )


def test_the_lead_reads_the_change_package_and_the_driver_diagram(sign_in, page, screenshot):
    sign_in("lead")
    page.goto("/p/clabsi/ideas/?region=RB")
    assert page.locator("tr.idea-row").count() >= 3
    assert page.locator("text=improved at").count() >= 1
    screenshot("change-package-lead")
    page.goto("/p/clabsi/improvement/")
    assert page.locator(".dd-scroll svg rect").count() >= 10
    assert page.locator(".dd-outline li").count() >= 10
    screenshot("driver-diagram-lead")
    assert page.console_errors == []


def test_the_facilitator_records_a_progress_score_on_a_tablet(sign_in, page, screenshot):
    page.set_viewport_size({"width": 820, "height": 1180})
    sign_in("facilitator")
    page.goto("/p/clabsi/progress/?site=RB1-GICU")
    page.click("text=Record a score")
    page.select_option("#id_site", label="Eastleigh Vale General ICU (RB1-GICU)")
    page.fill("#id_month", "2026-07")
    page.select_option("#id_score", value="4.5")
    page.fill("#id_note", "Sustained for seven months")
    page.click("button:has-text('Record')")
    page.wait_for_load_state("networkidle")
    assert page.locator(".messages").inner_text().startswith("Score recorded")
    page.goto("/p/clabsi/progress/?site=RB1-GICU")
    row = page.locator("section[aria-labelledby=side-h] tbody tr").filter(has_text="Jul 2026")
    assert row.count() == 1 and "4.5" in row.inner_text()
    screenshot("progress-scores-facilitator-tablet")
    assert page.console_errors == []
