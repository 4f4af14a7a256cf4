"""``/docs`` and ``/redoc`` render in a real Chromium from Docket's own assets alone."""

from __future__ import annotations

from tests.browser.conftest import OfflineContext, screenshot


def test_swagger_ui_lists_the_endpoints_with_nothing_from_another_host(
    offline: OfflineContext,
) -> None:
    page = offline.new_page()
    page.goto("/docs")
    operation = page.locator(".opblock-summary-path", has_text="/v1/tickets").first
    operation.wait_for(timeout=60_000)  # a bound, not a target: a loaded machine is slow
    assert page.locator(".opblock").count() > 20
    screenshot(page, "api-docs-swagger")


def test_redoc_renders_the_reference_with_nothing_from_another_host(
    offline: OfflineContext,
) -> None:
    page = offline.new_page()
    page.goto("/redoc")
    page.get_by_text("/v1/tickets", exact=False).first.wait_for(timeout=60_000)
    screenshot(page, "api-docs-redoc", full_page=False)  # the whole reference is 11 MB
