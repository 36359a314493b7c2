"""Every page works in a real browser under its Content-Security-Policy: nothing refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.flows import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo_settings")]


# ReDoc's footer hot-links its vendor's logo; the policy refusing it is the point (the docs
# load nothing from outside). Everything else refused would be something a page needs.
OUTSIDE_IMAGE = re.compile(r"Loading the image 'https://[^']+' violates")


@pytest.fixture
def refusals(page: Page) -> list[str]:
    """Console messages of resources or code the page's policy refused."""
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text and not OUTSIDE_IMAGE.search(message.text):
            refused.append(message.text)

    page.on("console", note)
    return refused


def assert_policed(page: Page, path: str) -> None:
    answer = page.request.get(path)
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_swagger_ui_works_under_its_policy(page: Page, refusals: list[str]) -> None:
    page.goto("/api/docs/")
    expect(page.get_by_text("/api/v1/auth/send-code/", exact=True)).to_be_visible()
    page.get_by_text("/api/v1/auth/send-code/", exact=True).click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".responses-table .response .response-col_status").first).to_be_visible()
    assert_policed(page, "/api/docs/")
    assert refusals == []


def test_redoc_works_under_its_policy(page: Page, refusals: list[str]) -> None:
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="Phone sign-in and referrals API")).to_be_visible()
    page.get_by_placeholder("Search...").fill("invite")  # search runs in a blob: worker
    expect(page.locator("[role=search] li").first).to_be_visible()
    assert_policed(page, "/api/redoc/")
    assert refusals == []


def test_the_web_ui_works_under_its_policy(page: Page, refusals: list[str]) -> None:
    page.goto("/")
    sign_in(page, "+79110000501")
    expect(page.get_by_test_id("invite-code")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    assert_policed(page, "/profile/")
    page.goto("/admin/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert refusals == []
