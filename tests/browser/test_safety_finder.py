"""The resonance finder in Chromium: a quick run under Playwright's clock with ratings only,
its assessment on the server and the best rate confirmed into /api/me; the Heart Rate
Measurement (0x2A37) parser on crafted bytes; the strap offered only where Web Bluetooth is."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.models import ResonanceAssessment, User
from tests.helpers.browser import PHONE, sign_up

pytestmark = pytest.mark.browser

# calm, comfort per pace: 5.5 a minute felt best.
RATINGS = {6.5: (5, 5), 6.0: (6, 6), 5.5: (8, 9), 5.0: (7, 7), 4.5: (4, 3)}


def stored(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        runs = db.session.scalars(select(ResonanceAssessment).where(ResonanceAssessment.user_id == user.id)).all()
        out = (user.resonance_bpm, [(r.best_bpm, r.basis, [(s["bpm"], s["calm"], s["comfort"]) for s in r.steps]) for r in runs])
        db.session.remove()
        return out


def test_a_quick_finder_run_posts_its_assessment_and_the_best_rate_is_confirmed(phone, base_url, server_app, console):
    page = phone
    page.clock.install()
    email = sign_up(page, base_url)
    page.goto(f"{base_url}/#/finder")
    page.get_by_role("heading", name="Find your resonance rate").wait_for()
    page.get_by_label("Quick: 1 minute a pace").check()
    page.get_by_role("button", name="Begin").click()
    page.locator(".pacer").wait_for()
    # 6.5 a minute is a 9.23 s breath, 40 % in: 3.69 s in, 5.54 s out.
    page.clock.run_for(3_000)
    assert page.locator(".phase-word").inner_text() == "Breathe in"
    page.clock.run_for(1_000)
    assert page.locator(".phase-word").inner_text() == "Breathe out"
    assert "Pace 1 of 5: 6.5 breaths a minute" in page.locator(".pacer-title").inner_text()

    for bpm, (calm, comfort) in RATINGS.items():
        page.clock.run_for(70_000)  # a quick pace: whole breaths for about a minute (at most 66.7 s)
        page.get_by_role("heading", name=f"How was {bpm:.1f} a minute?").wait_for()
        page.get_by_label("Calm", exact=True).fill(str(calm))
        page.get_by_label("Comfort", exact=True).fill(str(comfort))
        page.get_by_role("button", name="See the result" if bpm == 4.5 else "Next:").click()

    page.get_by_role("heading", name="Your resonance rate").wait_for()
    assert page.locator(".result-big").inner_text() == "5.5 breaths a minute"
    assert page.get_by_text("Chosen by how calm and comfortable each pace felt.").is_visible()
    assert page.locator("tr.best th").inner_text() == "5.5 (best)"
    bpm, runs = stored(server_app, email)
    assert bpm == 6.0 and len(runs) == 1  # posted, not yet confirmed
    assert runs[0] == (5.5, "ratings", [(b, c, f) for b, (c, f) in RATINGS.items()])

    page.get_by_role("button", name="Use 5.5 breaths a minute").click()
    page.get_by_text("Saved: resonance breathing now paces at 5.5 breaths a minute.").wait_for()
    assert stored(server_app, email)[0] == 5.5
    page.get_by_role("link", name="Start resonance breathing").click()
    page.get_by_role("heading", name="Resonance breathing").wait_for()
    assert page.get_by_label("Length").input_value() == "10"
    console.assert_clean()


PARSE = """async () => {
  const { parseHeartRate } = await import('/js/hr.js');
  const view = (bytes) => new DataView(new Uint8Array(bytes).buffer);
  return [
    [0x00, 72],                                  // uint8 heart rate, nothing else
    [0x16, 65, 0x00, 0x04, 0x34, 0x03],          // contact detected, two RR: 1024 and 820 / 1024 s
    [0x19, 0x2c, 0x01, 0x10, 0x00, 0x00, 0x02],  // uint16 300, energy 16 kJ, one RR of 512
    [0x04, 70],                                  // contact supported, not detected
    [0x10, 60, 0x00, 0x04, 0x7f],                // an odd trailing byte is not an RR interval
    [0x01, 0x48],                                // uint16 announced but one byte
    [0x08, 60, 0x01],                            // energy announced but cut short
    [],
  ].map((b) => parseHeartRate(view(b)));
}"""


def test_heart_rate_measurement_parser_on_crafted_bytes(browser, base_url, console):
    context = browser.new_context(**PHONE)
    # Without Web Bluetooth the strap is not offered at all.
    context.add_init_script("delete Navigator.prototype.bluetooth; delete navigator.bluetooth;")
    page = console.attach(context.new_page())
    page.goto(f"{base_url}/")
    parsed = page.evaluate(PARSE)
    assert parsed == [
        {"bpm": 72, "contact": None, "energy": None, "rr": []},
        {"bpm": 65, "contact": True, "energy": None, "rr": [1000, 820 * 1000 / 1024]},
        {"bpm": 300, "contact": None, "energy": 16, "rr": [500]},
        {"bpm": 70, "contact": False, "energy": None, "rr": []},
        {"bpm": 60, "contact": None, "energy": None, "rr": [1000]},
        None,
        None,
        None,
    ]
    assert parsed[1]["rr"][1] == 800.78125

    sign_up(page, base_url)
    assert page.evaluate("'bluetooth' in navigator") is False
    page.goto(f"{base_url}/#/finder")
    page.get_by_role("button", name="Begin").wait_for()
    assert page.get_by_text("Heart-rate strap (optional)").count() == 0
    console.assert_clean()
    context.close()


def test_a_dismissed_strap_chooser_leaves_the_ratings(phone, base_url):
    page = phone
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'bluetooth', { configurable: true, value: "
                         "{ requestDevice: () => Promise.reject(new DOMException('cancelled', 'NotFoundError')) } });")
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/finder")
    page.get_by_role("heading", name="Heart-rate strap (optional)").wait_for()
    page.get_by_role("button", name="Connect a strap").click()  # the chooser is dismissed
    page.get_by_text("No strap connected. That is fine: the finder works with your ratings alone.").wait_for()


# A simulated strap: Web Bluetooth's calls, and a heart that swings with the breath the pacer
# shows, most at 5.5 breaths a minute (the heart rate of each beat is sent as 0x2A37 bytes).
FAKE_STRAP = """
Object.defineProperty(Navigator.prototype, 'bluetooth', { configurable: true, value: { requestDevice: async () => {
  class Measurement extends EventTarget {
    async startNotifications() {
      let t = 0;
      const beat = () => {
        const m = /([\\d.]+) breaths a minute/.exec(document.querySelector('.pacer-title')?.textContent || '');
        const bpm = m ? Number(m[1]) : 6;
        const hr = 65 + (12 - 10 * Math.min(1, Math.abs(bpm - 5.5))) * Math.sin((2 * Math.PI * t * bpm) / 60000);
        const raw = Math.round((60000 / hr) * 1.024);
        t += raw / 1.024;
        this.value = new DataView(new Uint8Array([0x10, Math.round(hr), raw & 255, raw >> 8]).buffer);
        this.dispatchEvent(new Event('characteristicvaluechanged'));
        setTimeout(beat, raw / 1.024);
      };
      beat();
    }
  }
  const service = { getCharacteristic: async () => new Measurement() };
  return { name: 'Test strap', addEventListener() {}, gatt: { connect: async () => ({ getPrimaryService: async () => service }), disconnect() {} } };
} } });
"""


def test_with_a_strap_each_paces_heart_rate_swing_decides(phone, base_url, server_app, console):
    page = phone
    page.add_init_script(FAKE_STRAP)
    page.clock.install()
    email = sign_up(page, base_url)
    page.goto(f"{base_url}/#/finder")
    page.get_by_role("button", name="Connect a strap").click()
    page.get_by_text("Connected: Test strap").wait_for()
    page.get_by_label("Quick: 1 minute a pace").check()
    page.get_by_role("button", name="Begin").click()
    for bpm in RATINGS:
        page.clock.run_for(70_000)
        page.get_by_role("heading", name=f"How was {bpm:.1f} a minute?").wait_for()
        page.get_by_role("button", name="See the result" if bpm == 4.5 else "Next:").click()  # sliders left mid-scale
    page.get_by_role("heading", name="Your resonance rate").wait_for()
    assert page.locator(".result-big").inner_text() == "5.5 breaths a minute"
    assert page.get_by_text("Chosen by the largest heart-rate swing with each breath").is_visible()
    head = page.locator("thead").inner_text()
    assert "Swing" in head and "RMSSD" in head
    swings = [float(t.split()[0]) for t in page.locator("tbody td:nth-child(3)").all_inner_texts()]
    assert len(swings) == 5 and max(swings) == swings[2] and min(swings) > 0  # 5.5 swings most
    assert stored(server_app, email)[1][0][1] == "hr_swing"
    console.assert_clean()
