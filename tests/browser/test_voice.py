"""Spoken cues in the person's language and a session that survives the screen going off
(issue 15), in Chromium with a recording stand-in for the device's speech synthesiser (headless
Chromium has no voices) and Playwright's clock as the timing reference."""
from __future__ import annotations

import pytest

from tests.helpers.browser import sign_up

from .test_loop import api, page_token

pytestmark = pytest.mark.browser

# Records every speak (text, lang, volume, at) and cancel (at) with the page's performance.now();
# offers one German and one English voice, listed late (on voiceschanged) as Chrome does.
SPEECH_STUB = """
(() => {
  const calls = [];
  const voices = [
    { name: 'Anna', lang: 'de-DE', voiceURI: 'anna-de', default: false, localService: true },
    { name: 'Sam', lang: 'en-US', voiceURI: 'sam-en', default: true, localService: true },
  ];
  let listed = false;
  const synth = new EventTarget();
  synth.getVoices = () => (listed ? voices : []);
  synth.speak = (u) => calls.push({ type: 'speak', text: u.text, lang: u.lang, voice: u.voice && u.voice.voiceURI, at: performance.now() });
  synth.cancel = () => calls.push({ type: 'cancel', at: performance.now() });
  synth.pause = () => {}; synth.resume = () => {};
  Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: synth });
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; this.lang = ''; this.voice = null; this.volume = 1; this.rate = 1; } };
  setTimeout(() => { listed = true; synth.dispatchEvent(new Event('voiceschanged')); }, 50);
  window.__speech = calls;
  // The lock screen's buttons, as the browser would press them.
  const media = {};
  if (navigator.mediaSession) {
    const set = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
    navigator.mediaSession.setActionHandler = (action, fn) => { media[action] = fn; set(action, fn); };
  }
  window.__media = media;
  // Page visibility the test can turn (headless Chromium is always "visible").
  let state = 'visible';
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
  window.__setVisibility = (s) => { state = s; document.dispatchEvent(new Event('visibilitychange')); };
})();
"""


def german_user_at_the_start_screen(page, base_url, slug):
    page.add_init_script(SPEECH_STUB)
    page.clock.install()
    sign_up(page, base_url)
    api(base_url, page_token(page), "PATCH", "/api/me", {"language": "de"})
    page.goto(f"{base_url}/#/run/{slug}")
    page.get_by_role("button", name="Continue").wait_for()
    page.clock.run_for(100)  # the device lists its voices


def start(page):
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Skip and start").click()
    page.locator(".pacer").wait_for()


def speech(page):
    return page.evaluate("window.__speech")


def test_a_german_session_speaks_each_phase_in_german_at_its_boundary(phone, base_url, console):
    page = phone
    german_user_at_the_start_screen(page, base_url, "box")
    voice = page.get_by_role("button", name="Voice", exact=True)
    assert voice.get_attribute("aria-pressed") == "false"  # off unless chosen
    voice.click()
    assert voice.get_attribute("aria-pressed") == "true"
    start(page)
    page.clock.run_for(2 * 16_000 + 500)  # two cycles of box breathing: 4 + 4 + 4 + 4 s

    calls = speech(page)  # nothing is spoken before the session starts
    spoken = [c for c in calls if c["type"] == "speak"]
    assert [c["text"] for c in spoken[:8]] == ["Ein", "Halten", "Aus", "Pause"] * 2
    assert all(c["lang"] == "de-DE" and c["voice"] == "anna-de" for c in spoken)
    # Each word starts at its phase boundary (the pacer's clock), within a frame of the plan.
    for i, c in enumerate(spoken[:8]):
        assert abs((c["at"] - spoken[0]["at"]) - i * 4000) <= 17, (i, c)
    # Whatever was still speaking is cancelled just before the next word, never after it.
    for i, c in enumerate(calls):
        if c["type"] == "speak":
            assert i > 0 and calls[i - 1]["type"] == "cancel" and c["at"] - calls[i - 1]["at"] < 1
    # The choice is kept on the phone: the next session starts with the voice on.
    page.get_by_role("button", name="End early").click()
    page.get_by_role("button", name="Skip").click()
    page.get_by_role("link", name="Done").click()
    page.goto(f"{base_url}/#/run/box")
    page.get_by_role("button", name="Continue").wait_for()
    assert page.get_by_role("button", name="Voice", exact=True).get_attribute("aria-pressed") == "true"
    console.assert_clean()


def test_eyes_closed_turns_the_voice_on(phone, base_url, console):
    page = phone
    german_user_at_the_start_screen(page, base_url, "box")
    start(page)
    page.clock.run_for(1_000)
    assert [c for c in speech(page) if c["type"] == "speak"] == []  # voice off by default
    page.get_by_role("button", name="Eyes closed").click()
    assert page.get_by_role("button", name="Voice", exact=True).get_attribute("aria-pressed") == "true"
    page.get_by_text("The voice says each phase.").wait_for()
    page.clock.run_for(3_500)  # to the hold
    assert [c["text"] for c in speech(page) if c["type"] == "speak"] == ["Halten"]
    console.assert_clean()


def test_a_session_survives_the_screen_going_off_and_the_lock_screen_controls(phone, base_url, console):
    page = phone
    german_user_at_the_start_screen(page, base_url, "box")
    page.get_by_role("button", name="Voice", exact=True).click()
    start(page)
    assert page.evaluate("navigator.mediaSession.metadata.title") == page.locator(".pacer-title").inner_text() == "Box-Atmung"
    assert page.evaluate("navigator.mediaSession.metadata.artwork.map((a) => new URL(a.src).pathname)") == [
        "/icons/icon-192.png", "/icons/icon-512.png"]
    assert page.evaluate("navigator.mediaSession.playbackState") == "playing"
    # The silent loop that keeps the page's audio session alive, made in code.
    page.clock.run_for(1_000)

    # Screen off for 9 s: timers are held back (at most one late firing), then back again.
    page.evaluate("window.__setVisibility('hidden')")
    page.clock.fast_forward(9_000)  # 10 s in: the second phase of 4 s, 2 s into "Aus"
    page.evaluate("window.__setVisibility('visible')")
    pacer = page.locator(".pacer")
    assert pacer.get_attribute("data-phase") == "exhale"
    assert pacer.get_attribute("data-phase-index") == "2"
    assert page.locator(".phase-word").inner_text() == "Breathe out"
    page.clock.run_for(2_100)  # and the next boundary comes on time, spoken
    assert pacer.get_attribute("data-phase-index") == "3"
    assert [c["text"] for c in speech(page) if c["type"] == "speak"][-1] == "Pause"

    # The lock screen's pause holds the session and the voice; play goes on from there.
    page.evaluate("window.__media.pause()")
    assert page.get_by_role("button", name="Resume").is_visible()
    assert page.evaluate("navigator.mediaSession.playbackState") == "paused"
    assert speech(page)[-1]["type"] == "cancel"
    page.clock.run_for(30_000)
    assert pacer.get_attribute("data-phase-index") == "3"
    page.evaluate("window.__media.play()")
    assert page.get_by_role("button", name="Pause").is_visible()
    page.clock.run_for(4_000)
    assert pacer.get_attribute("data-phase-index") == "4"
    assert [c["text"] for c in speech(page) if c["type"] == "speak"][-1] == "Ein"

    # Ending the session hands the lock screen back.
    page.get_by_role("button", name="End early").click()
    page.get_by_role("heading", name="Ended early: how do you feel now?").wait_for()
    assert page.evaluate("navigator.mediaSession.playbackState") == "none"
    assert page.evaluate("navigator.mediaSession.metadata") is None
    console.assert_clean()


def test_a_device_without_a_voice_for_the_language_says_so_and_keeps_the_tones(phone, base_url, console):
    page = phone
    german_user_at_the_start_screen(page, base_url, "box")
    page.evaluate("window.speechSynthesis.getVoices = () => [{ name: 'Sam', lang: 'en-US', voiceURI: 'sam-en', default: true }]")
    page.evaluate("""() => {
      window.__tones = 0;
      const make = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
    }""")
    page.get_by_role("button", name="Tones", exact=True).click()  # tones off: the voice alone
    page.get_by_role("button", name="Voice", exact=True).click()
    page.get_by_text("This device has no voice for your language, so the coach uses tones instead.").wait_for()
    start(page)
    page.clock.run_for(8_500)
    assert [c for c in speech(page) if c["type"] == "speak"] == []
    assert page.evaluate("window.__tones") == 3  # in, hold, out: the tones stand in for the voice
    # Switched off and on again in the session: said once more, in a note, not at every phase.
    voice = page.get_by_role("button", name="Voice", exact=True)
    voice.click()
    voice.click()
    page.locator("#toast").get_by_text("no voice for your language").wait_for()
    console.assert_clean()
