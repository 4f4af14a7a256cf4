"""``/docs`` and ``/redoc`` render in a real Chromium from Docket's own assets alone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import OfflineContext, screenshot


def test_swagger_ui_lists_the_endpoints_with_nothing_from_another_host(
    offline: OfflineContext,
) -> None:
    page = offline.new_page()
    page.goto("/docs")
    operation = page.locator(".opblock-summary-path", has_text="/v1/tickets").first
    operation.wait_for(timeout=60_000)  # a bound, not a target: a loaded machine is slow
    assert page.locator(".opblock").count() > 20
    page.locator(".auth-wrapper").get_by_role("button", name="Authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")  # the token, once for every operation
    dialog.get_by_label("Value").fill("not-a-real-token")
    dialog.locator("button.modal-btn.authorize").click()
    dialog.locator("button.btn-done").click()
    expect(page.locator(".auth-wrapper .btn.authorize.locked")).to_be_visible()
    locked = page.get_by_role("button", name="authorization button locked")
    expect(locked.first).to_be_visible()  # each operation that takes the token has it
    screenshot(page, "api-docs-swagger")


def test_redoc_renders_the_reference_with_nothing_from_another_host(
    offline: OfflineContext,
) -> None:
    page = offline.new_page()
    page.goto("/redoc")
    page.get_by_text("/v1/tickets", exact=False).first.wait_for(timeout=60_000)
    screenshot(page, "api-docs-redoc", full_page=False)  # the whole reference is 11 MB
