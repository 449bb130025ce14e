"""The first thing a programme lead does: sign in and open the programme overview."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_lead_signs_in_and_sees_every_site_by_region_and_phase(sign_in, page, screenshot):
    sign_in("lead")
    page.click("text=Zero central line infections in intensive care")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Zero central line infections in intensive care"
    assert page.locator("tr.region").count() == 3
    assert page.locator("tbody th[scope=row]").count() == 24
    assert page.locator(".phase-abandoned").count() >= 2
    screenshot("programme-overview-lead")
    assert page.console_errors == []


def test_a_wrong_password_is_refused_with_a_message(sign_in, page):
    sign_in("lead", "not-the-password")
    assert "/login/" in page.url
    assert page.locator(".errors").is_visible()


@pytest.mark.parametrize("username", ["facilitator", "site", "patient", "evaluator"])
def test_every_demo_login_reaches_the_programme(sign_in, page, username):
    sign_in(username)
    assert page.locator("text=Zero central line infections in intensive care").count() == 1
