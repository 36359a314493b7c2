"""In a real headless Chromium: the UI's error page for a missing page, a code spent by
wrong entries, and a failed form that comes back scrolled to its field."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.flows import PHONE, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo_settings")]

CODE_PHONE = "+79110000121"


def test_a_missing_page_is_the_ui_page_with_a_way_back(page: Page) -> None:
    answer = page.goto("/no-such-page/")

    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    background = page.locator(".card").evaluate("node => getComputedStyle(node).borderRadius")
    assert background not in ("", "0px")  # the UI's stylesheet is applied
    screenshot(page, "10-not-found")
    page.get_by_role("link", name="Back to the start").click()
    expect(page.get_by_role("heading", name="Sign in with your phone")).to_be_visible()


def test_a_burned_code_offers_only_a_new_code(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Phone number").fill(CODE_PHONE)
    page.get_by_role("button", name="Send code").click()
    right = page.get_by_test_id("demo-code").inner_text()
    wrong = "0000" if right != "0000" else "1111"
    for _ in range(3):
        page.get_by_label("Code from the SMS").fill(wrong)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#id_code_error")).to_be_visible()

    expect(page.locator("#id_code_error")).to_have_text(
        "The code is wrong. No attempts are left for this code."
    )
    expect(page.get_by_text(re.compile(r"\b0 attempts left"))).to_have_count(0)
    expect(page.get_by_test_id("demo-code")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in")).to_be_disabled()
    expect(page.get_by_label("Code from the SMS")).to_be_disabled()
    new_code = page.get_by_role("button", name="Send a new code")
    expect(new_code).to_be_focused()
    screenshot(page, "11-code-burned")

    page.get_by_role("link", name="Send a new code").click()
    new_code.click()
    fresh = page.get_by_test_id("demo-code").inner_text()
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    page.get_by_label("Code from the SMS").fill(fresh)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))


def test_a_failed_form_comes_back_at_its_field(new_page: Callable[..., Page]) -> None:
    page = new_page(PHONE)
    sign_in(page, "+79110000122")
    page.get_by_role("textbox", name="Invite code").fill("ZZZZZZ")
    page.get_by_role("button", name="Activate").click()

    invite = page.get_by_role("textbox", name="Invite code")
    expect(invite).to_be_focused()
    expect(invite).to_be_in_viewport()
    expect(page.locator("#id_invite_code_error")).to_be_in_viewport()

    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Save").click()
    email = page.get_by_label("Email")
    expect(email).to_be_focused()
    expect(email).to_be_in_viewport()
    expect(page.locator("#id_email_error")).to_be_in_viewport()
    screenshot(page, "12-details-error-phone", full_page=False)
