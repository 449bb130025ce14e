"""The API's Swagger UI in a real browser: served from our static files, under our CSP."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_swagger_ui_renders_the_api_with_no_console_errors(sign_in, page, screenshot, demo_server):
    sign_in("lead")
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(demo_server) else outside.append(r.url))
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    page.wait_for_load_state("networkidle")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/programmes/{slug}/observations" in p for p in paths)
    screenshot("api-docs")
    assert outside == []
    assert page.console_errors == []
