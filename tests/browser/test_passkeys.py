"""Passkeys through the real front end, with Chromium's virtual authenticator over CDP: the
browser makes and signs with a real credential, and the server checks what it really sent."""
from __future__ import annotations

import pytest
import requests

from tests.helpers.browser import PASSWORD, new_email

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
def local_url(server_app, base_url):
    """The coach at http://localhost:<port>, which is also its public URL here: the RP id must be
    the page's host, and browsers take no IP address (127.0.0.1) as an RP id."""
    url = base_url.replace("127.0.0.1", "localhost")
    before = server_app.config["COACH_PUBLIC_URL"]
    server_app.config["COACH_PUBLIC_URL"] = url
    yield url
    server_app.config["COACH_PUBLIC_URL"] = before


def virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})["authenticatorId"]
    return cdp, authenticator_id


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the screen scrolls sideways"


def test_add_a_passkey_sign_out_and_sign_in_with_it(phone, local_url, console):
    page = phone
    cdp, authenticator_id = virtual_authenticator(page)
    email = new_email()

    # Sign up with a password: the coach offers a passkey once, and makes one on this device.
    page.goto(f"{local_url}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Sign in faster next time").wait_for()
    with page.expect_response("**/api/auth/passkeys/register") as registered:
        page.get_by_role("button", name="Add a passkey").click()
    assert registered.value.status == 201, registered.value.text()
    page.get_by_role("button", name="I understand").click()
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()

    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
    assert credentials[0]["rpId"] == "localhost"

    # Settings lists it, not used yet; then log out.
    page.goto(f"{local_url}/#/settings")
    passkeys = page.get_by_role("list", name="Your passkeys")
    passkeys.get_by_text("not used yet").wait_for()
    assert passkeys.get_by_role("listitem").count() == 1
    # First the button (Chromium's virtual authenticator would answer the autofill request at
    # once, as if the person had picked the passkey there: that path is taken below).
    page.evaluate("PublicKeyCredential.isConditionalMediationAvailable = async () => false")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign in with a passkey").wait_for()
    no_sideways_scroll(page)

    # Sign in with the passkey alone: no email typed.
    with page.expect_response("**/api/auth/passkeys/login") as signed_in:
        page.get_by_role("button", name="Sign in with a passkey").click()
    answer = signed_in.value
    assert answer.status == 200, answer.text()
    token = answer.json()["token"]
    page.get_by_role("button", name="I understand").click()  # logging out forgot the safety note
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()
    me = requests.get(f"{local_url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == email

    # The authenticator's counter moved on, and Settings says the passkey was used.
    count = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"][0]["signCount"]
    assert count >= 1
    page.goto(f"{local_url}/#/settings")
    page.get_by_role("list", name="Your passkeys").get_by_text("last used").wait_for()

    # Then the email field's autofill (conditional UI): the welcome screen asks at once.
    page.reload()
    page.get_by_role("list", name="Your passkeys").get_by_text("last used").wait_for()
    with page.expect_response("**/api/auth/passkeys/login") as autofilled:
        page.get_by_role("button", name="Log out").click()
    assert autofilled.value.status == 200, autofilled.value.text()
    second = autofilled.value.json()["token"]
    assert second != token
    page.get_by_role("button", name="I understand").click()
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()
    me = requests.get(f"{local_url}/api/me", headers={"Authorization": f"Bearer {second}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == email
    console.assert_clean()


def test_rename_and_delete_in_settings_at_320_px_light_and_dark(browser, local_url, console):
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 320, "height": 700}, is_mobile=True, has_touch=True,
                                      color_scheme=scheme)
        page = console.attach(context.new_page())
        virtual_authenticator(page)
        page.goto(f"{local_url}/")
        page.get_by_label("Email").fill(new_email())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.get_by_role("heading", name="Sign in faster next time").wait_for()
        no_sideways_scroll(page)
        page.get_by_role("button", name="Not now").click()
        page.get_by_role("button", name="I understand").click()
        page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()

        page.goto(f"{local_url}/#/settings")
        page.get_by_text("No passkeys yet.").wait_for()
        with page.expect_response("**/api/auth/passkeys/register") as registered:
            page.get_by_role("button", name="Add a passkey").click()
        assert registered.value.status == 201
        passkeys = page.get_by_role("list", name="Your passkeys")
        passkeys.get_by_role("listitem").first.wait_for()
        page.get_by_role("button", name="Rename").first.click()
        page.get_by_label("Passkey name").fill("A very long name for the phone in the kitchen drawer")
        page.get_by_role("button", name="Save", exact=True).last.click()
        passkeys.get_by_text("A very long name for the phone in the kitchen drawer").wait_for()
        no_sideways_scroll(page)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete A very long name for the phone in the kitchen drawer").click()
        page.get_by_text("No passkeys yet.").wait_for()
        context.close()
    console.assert_clean()


def test_without_passkey_support_the_welcome_card_says_so_in_plain_words(browser, local_url, console):
    context = browser.new_context(viewport={"width": 320, "height": 700})
    context.add_init_script("delete window.PublicKeyCredential")
    page = console.attach(context.new_page())
    page.goto(f"{local_url}/")
    page.get_by_text("This browser cannot use passkeys. Log in with your email and password.").wait_for()
    assert page.get_by_role("button", name="Sign in with a passkey").is_hidden()
    no_sideways_scroll(page)
    context.close()
    console.assert_clean()


def test_the_waiting_autofill_request_never_shows_an_error_nobody_asked_for(phone, local_url, console):
    """Chromium ends a conditional request at once when the device holds no passkey for the
    site; the welcome card must stay as it was, not say "No passkey was used"."""
    page = phone
    virtual_authenticator(page)
    with page.expect_response("**/api/auth/passkeys/login/options"):
        page.goto(f"{local_url}/#/welcome?mode=login")
    page.get_by_role("heading", name="Log in").wait_for()
    page.wait_for_timeout(500)  # the browser's refusal comes right after the options
    assert page.locator(".error:visible").count() == 0, page.locator(".error").all_inner_texts()
    assert page.get_by_label("Email").get_attribute("autocomplete") == "username webauthn"
    console.assert_clean()
