"""A real browser (Debian's chromium, headless, through Playwright) opens the dashboard and sees the Greeks update."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from service.service_builders import TOKEN, serving_api

from hedgekeeper.service.runtime import Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def dashboard_url(service: Service) -> Iterator[str]:
    with serving_api(service) as url:
        yield url


def test_dashboard_shows_greeks_against_bands_and_updates_them_live(dashboard_url: str) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it with apt)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    requests_outside: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.on("request", lambda request: None if request.url.startswith(dashboard_url)
                    else requests_outside.append(request.url))
            page.goto(dashboard_url)
            page.fill("#token", TOKEN)
            page.click("#login button[type=submit]")
            delta = page.locator('.value[data-underlying="BTC"][data-greek="delta_coin"]')
            playwright_api.expect(delta).not_to_have_text("–", timeout=15_000)
            clock = page.locator("#engine-time")
            first_time, first_ns = clock.inner_text(), int(clock.get_attribute("data-ns"))
            page.wait_for_function(
                f"() => Number(document.querySelector('#engine-time').dataset.ns) > {first_ns} + 60e9",
                timeout=15_000)
            assert clock.inner_text() != first_time
            first_delta = delta.inner_text()
            page.wait_for_function(
                "first => document.querySelector('.value[data-underlying=\"BTC\"][data-greek=\"delta_coin\"]')"
                ".textContent !== first", arg=first_delta, timeout=15_000)
            playwright_api.expect(page.locator("#status")).to_have_text("running")
            band = page.locator(".greek", has=delta).locator(".band")
            assert "band [" in band.inner_text()
            playwright_api.expect(page.locator("#positions tbody tr").first).to_be_visible(timeout=10_000)
            assert "BTC-15JUL25-100000-C.DERIBIT" in page.locator("#positions").inner_text()
            playwright_api.expect(page.locator("#decisions li").first).to_be_visible(timeout=10_000)
            assert "fees" in page.locator("#costs").inner_text()
            assert "distance to liquidation" in page.locator('[data-field="liquidation"]').inner_text()
            assert page.locator("#chain").is_hidden()  # this service runs no chain: /api/chain answers 404
            assert page.locator("#market").is_hidden()  # nor a live market: /api/market answers 404
            chart = page.locator(".greek canvas").first
            assert chart.bounding_box()["height"] > 50
            if os.environ.get("HEDGEKEEPER_DASHBOARD_SCREENSHOT"):
                page.screenshot(path=os.environ["HEDGEKEEPER_DASHBOARD_SCREENSHOT"], full_page=True)
        finally:
            browser.close()
    assert requests_outside == []
