"""The finder with the phone's camera: Chromium's fake camera plays a generated video of a
fingertip (tests/browser/fingertip_video.py) whose red follows a pulse wave built from a known
RR series: a heart-rate swing with each breath at the rate the pacer shows (largest at 5.5),
beat-to-beat jitter, sensor noise, three premature beats, and the finger lifted for 3 seconds
in the first pace.

The camera delivers frames in real time, so each quick pace records for 28 real seconds and the
page's clock (Playwright's) then skips the rest of the minute: the pulse is timed by the
frames' own capture times, never by the page's clock. Three paces are recorded, the fourth is
ended at once and the run stopped (the finder keeps the paces rated so far). The video runs one
segment per pace, so the pace on screen and the breathing in the video agree; the test starts
each pace a second into its segment.

Checked against the beats the video was built from, as the camera delivered them: Chromium's
fake camera stamps a frame when its timer fires, and on a busy machine a late tick delays that
frame and all after it against the file's own time, so a second reader (FRAME_CLOCK, test
instrumentation) notes which frame of the file arrived when, from the number each frame
carries. Against those: the RR intervals the server received (per interval), each pace's mean
heart rate (within 1 beat a minute) and RMSSD after cleaning (10 %, or 50 % on a busy machine),
that the lifted stretch showed "Recording paused" and recorded about 3 seconds less, and that
best_bpm is the pace with the largest built-in swing.
"""
from __future__ import annotations

import math
import re
import time

import numpy as np
import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.models import ResonanceAssessment, User
from coach.practice import resonance

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_up
from .fingertip_video import Segment, heartbeats, red_level, write_y4m

pytestmark = pytest.mark.browser

# The first three quick paces are recorded (28 real seconds each); the fourth is ended at once
# and the run stopped there, so the test stays under two minutes.
RATES = (6.5, 6.0, 5.5)
SWINGS = {6.5: 6.0, 6.0: 8.0, 5.5: 15.0}  # built-in peak-to-trough, beats a minute
MEAN_HR = 84.0
LEAD_S = 9.0  # video before the first pace: opening the camera and finding the pulse
SEGMENT_S = 32.0  # video per pace: 1 s to start it, 28 s recorded, 3 s to rate it
PACE_S = 28.0
LIFTED = (LEAD_S + 10.0, LEAD_S + 13.0)  # in the first pace
PREMATURE_AT = [LEAD_S + 20.0, LEAD_S + SEGMENT_S + 12.0, LEAD_S + SEGMENT_S + 22.0]

# Test instrumentation, not the app's: a second reader of the same camera notes each frame's
# capture time and the frame number the video spells in its top rows (fingertip_video.py).
FRAME_CLOCK = """
(() => {
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__frames = [];
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await open(constraints);
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream([stream.getVideoTracks()[0].clone()]);
    const ctx = new OffscreenCanvas(64, 48).getContext('2d', { willReadFrequently: true });
    const read = (now, meta) => {
      ctx.drawImage(video, 0, 0);
      const row = ctx.getImageData(0, 1, 64, 1).data;
      let n = 0;
      for (let bit = 0; bit < 16; bit += 1) n = n * 2 + (row[(bit * 4 + 2) * 4 + 2] > 90 ? 1 : 0);
      window.__frames.push([meta.captureTime, n]);
      video.requestVideoFrameCallback(read);
    };
    video.requestVideoFrameCallback(read);
    video.play();
    return stream;
  };
})();
"""


def pace_start(k: int) -> float:
    return LEAD_S + k * SEGMENT_S + 1.0


@pytest.fixture(scope="module")
def fingertip(tmp_path_factory):
    recording = heartbeats([Segment(SEGMENT_S, bpm, SWINGS[bpm]) for bpm in RATES] + [Segment(12.0, 5.0, 6.0)], mean_hr=MEAN_HR,
                           jitter_ms=22.0, premature_at_s=PREMATURE_AT, seed=16, lead_s=LEAD_S)
    recording.lifted = [LIFTED]
    video = write_y4m(tmp_path_factory.mktemp("camera") / "fingertip.y4m", recording)
    return recording, video


@pytest.fixture(scope="module")
def camera_browser(playwright_instance, fingertip):
    """A browser of its own whose camera is the video (Chromium reads the file at launch)."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={fingertip[1]}",
    ])
    yield browser
    browser.close()


def rmssd(rr) -> float:
    d = np.diff(np.asarray(rr, dtype=float))
    return float(math.sqrt(np.mean(d * d)))


def _nearest(true_beats: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.clip(np.searchsorted(true_beats, times), 1, len(true_beats) - 1)
    nearest = np.where(np.abs(true_beats[idx] - times) < np.abs(true_beats[idx - 1] - times), idx, idx - 1)
    return nearest, np.abs(true_beats[nearest] - times)


def match_beats(rr: list[float], true_beats: np.ndarray, near: tuple[float, float]) -> tuple[np.ndarray, list[float]]:
    """The index of the true beat (times in ms) each received beat is (-1 where none is within
    60 ms), and the time shifts used. The beats are rebuilt from the intervals and shifted to
    fit the true beats, eight at a time, as the page leaves out the interval across a pause."""
    got = np.concatenate([[0.0], np.cumsum(rr)])
    out = np.full(len(got), -1)
    shifts = []
    i, lo, hi = 0, near[0], near[1]
    while i < len(got):
        piece = got[i:i + 8]
        shift = min(np.arange(lo, hi, 2.0), key=lambda s: np.sum(np.minimum(_nearest(true_beats, piece + s)[1], 60)))
        nearest, miss = _nearest(true_beats, got[i:] + shift)
        ok = miss < 60
        run = len(ok) if ok.all() else max(1, int(np.argmin(ok)))
        out[i:i + run] = np.where(ok[:run], nearest[:run], -1)
        shifts.append(round(float(shift)))
        i += run
        # The page drops the interval across a pause in the frames: the next beats come a
        # beat or more later than the sum of the intervals says.
        lo, hi = shift - 300, shift + 4000
    return out, shifts


def stored_steps(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        run = db.session.scalars(select(ResonanceAssessment).where(ResonanceAssessment.user_id == user.id)).one()
        out = (run.best_bpm, run.basis, run.steps)
        db.session.remove()
        return out


def wait_until(moment: float):
    time.sleep(max(0.0, moment - time.monotonic()))


def test_the_camera_finds_the_pace_with_the_largest_swing(camera_browser, fingertip, base_url, server_app, console):
    recording, _ = fingertip
    # Reduced motion (the pacer's calm bar, no moving orb) and one pixel per point: less drawing,
    # so the fake camera's frame timer is less often late on a busy machine.
    context = camera_browser.new_context(**{**PHONE, "device_scale_factor": 1}, reduced_motion="reduce")
    page = console.attach(context.new_page())
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/api/resonance/assessments") else None)
    page.add_init_script(FRAME_CLOCK)
    page.clock.install()
    email = sign_up(page, base_url)
    page.goto(f"{base_url}/#/finder")
    page.get_by_role("heading", name="Pulse from the camera (optional)").wait_for()
    page.get_by_label("Quick: 1 minute a pace").check()
    opened = time.monotonic()  # the fake camera starts its file when it is opened
    page.get_by_role("button", name="Use the camera").click()
    page.get_by_text("Pulse found.").wait_for(timeout=(LEAD_S - 1) * 1000)
    assert page.get_by_text("Each pace records for at most 1 minute").is_visible()  # the limit, and why
    assert page.get_by_text("cannot switch on the camera's light").is_visible()  # the fake camera has none

    paused_seen = False
    for k, bpm in enumerate(RATES):
        wait_until(opened + pace_start(k))
        page.get_by_role("button", name="Begin" if k == 0 else "Next:").click()
        page.locator(".pacer-title").filter(has_text=f"{bpm:.1f} breaths a minute").wait_for()
        if k == 0:
            wait_until(opened + LIFTED[0] + 1.0)  # the finger is off the lens
            page.get_by_text("Recording paused. Cover the lens and the light completely").wait_for(timeout=3000)
            paused_seen = True
            page.get_by_text("Recording your pulse.").wait_for(timeout=14_000)  # and on again
            assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")  # the pulse line fits
        wait_until(opened + pace_start(k) + PACE_S)
        page.clock.run_for(70_000)  # the rest of the quick minute
        page.get_by_role("heading", name=f"How was {bpm:.1f} a minute?").wait_for()
    page.get_by_role("button", name="Next:").click()
    page.get_by_role("button", name="End early").click()  # 5.0 a minute: not recorded
    page.get_by_role("button", name="Stop here").click()
    page.get_by_role("heading", name="Your resonance rate").wait_for()
    assert paused_seen

    # What the server received: every pace measured by the camera.
    (body,) = sent
    steps = body["steps"]
    assert [s["bpm"] for s in steps] == list(RATES)
    assert all(s["source"] == "camera" for s in steps)
    best, basis, figures = stored_steps(server_app, email)

    # When each frame of the file reached the page: the beats as the camera delivered them.
    frames = np.array(page.evaluate("window.__frames"), dtype=float)
    frames = frames[np.argsort(frames[:, 1], kind="stable")]
    assert np.all(np.diff(frames[:, 0]) >= 0) and len(frames) > 25 * (LEAD_S + len(RATES) * SEGMENT_S)
    delivered = lambda seconds: np.interp(np.asarray(seconds) * 30.0, frames[:, 1], frames[:, 0])  # noqa: E731
    beats_at = delivered(recording.beats_s)  # ms, the camera's clock
    normal_at = delivered(recording.normal_beats_s)
    seen = (recording.beats_s * 30 >= frames[0, 1]) & (recording.beats_s * 30 <= frames[-1, 1])
    late_ms = beats_at[seen] - recording.beats_s[seen] * 1000.0
    lag_ms = late_ms.max() - late_ms.min()
    print(f"\nthe fake camera's lag behind the file grew by {lag_ms:.0f} ms over the run")

    report = []
    errors_ms = []
    missed_beats = 0
    for k, (step, got) in enumerate(zip(steps, figures)):
        rr = step["rr_ms"]
        start_at = delivered(pace_start(k))
        # The beats under the lifted finger cannot be received: they are no candidates.
        lifted = (recording.beats_s > LIFTED[0]) & (recording.beats_s < LIFTED[1])
        candidates = np.flatnonzero(~lifted)
        found, _ = match_beats(rr, beats_at[candidates], (start_at - 3000, start_at + 3000))
        matched = np.where(found >= 0, candidates[found], -1)
        assert (matched >= 0).mean() >= 0.85, matched  # the beats received are the video's beats
        if k == 0:
            # The lifted stretch gave nothing: the pace recorded about 3 seconds less.
            assert sum(rr) / 1000 < PACE_S - (LIFTED[1] - LIFTED[0]) + 0.5
        # The delivered intervals behind the ones received, in the same order and with the same
        # joins (the page leaves out an interval across a lifted finger or a pause in the
        # frames), had no beat been premature: what the server's cleaned figures come back to.
        clean = []
        for i, r in enumerate(rr):
            a, b = matched[i], matched[i + 1]
            if a < 0 or b < 0 or b <= a:
                continue
            if abs(r - (beats_at[b] - beats_at[a])) < 80:  # from beat a to beat b
                if b == a + 1:
                    errors_ms.append(r - (beats_at[b] - beats_at[a]))
                missed_beats += b - a - 1  # a beat the camera could not see (a weak premature pulse)
                clean.extend(np.diff(normal_at[a:b + 1]))
            elif abs(r - (beats_at[b] - beats_at[b - 1])) < 80:  # the first of a new stretch
                errors_ms.append(r - (beats_at[b] - beats_at[b - 1]))
                clean.append(normal_at[b] - normal_at[b - 1])
        swing, _ = resonance.hr_swing(clean, step["bpm"])
        report.append((step["bpm"], len(rr), got["mean_hr_bpm"], round(60000 / np.mean(clean), 1), got["rmssd_ms"],
                       round(rmssd(clean), 1), got["corrected_beats"], got["hr_swing_bpm"], swing))
    print("pace, intervals, mean HR got/true, RMSSD got/true, corrected, swing got/true")
    for row in report:
        print(row)
    errors = np.abs(np.asarray(errors_ms))
    print(f"RR error: mean {errors.mean():.1f} ms, 95th percentile {np.percentile(errors, 95):.1f} ms, n={len(errors)}, missed {missed_beats}")
    print("best", best, basis, [(f["bpm"], f["hr_swing_bpm"], f["reliable"]) for f in figures])
    rmssd_errors = []
    for bpm, n, hr, true_hr, got_rmssd, true_rmssd, *_ in report:
        assert n >= 20, bpm
        assert hr == pytest.approx(true_hr, abs=1.0), bpm  # mean heart rate within 1 beat a minute
        rmssd_errors.append(abs(got_rmssd - true_rmssd) / true_rmssd)
    # RMSSD after cleaning, end to end: within 10 % when the fake camera kept time (its lag grew
    # by under 100 ms). On a busy machine its frame timer runs late, up to 80 ms at a time
    # without a pause the page can see: the delivered truth takes each jump in full, while the
    # filtered wave spreads it, and in a pace of ~30 intervals that moves RMSSD far more than a
    # real camera's stamps do; then 50 % (the 10 % goal is still checked, on steady frames, by
    # test_the_pulse_maths_meet_the_goal_on_steady_frames).
    print("RMSSD errors", [f"{e:.0%}" for e in rmssd_errors])
    assert max(rmssd_errors) <= (0.10 if lag_ms < 100 else 0.50)
    assert errors.mean() < 15 and errors.size >= 60
    # The pace with the largest swing built in wins, by the heart-rate swing.
    assert (best, basis) == (max(SWINGS, key=SWINGS.get), "hr_swing")
    assert best == max(report, key=lambda row: row[-1])[0]  # as delivered, too
    assert page.locator(".result-big").inner_text() == "5.5 breaths a minute"
    assert "Beats corrected" in page.locator("thead").inner_text()
    # The paces too uncertain to choose by are marked as the server said.
    assert page.locator("tr.unreliable th").all_inner_texts() == [f"{f['bpm']:.1f}" for f in figures if f["reliable"] is False]
    assert page.get_by_text("From the camera, the pulse is close to, but not the same as").is_visible()
    console.assert_clean()
    context.close()


@pytest.mark.parametrize("width, scheme", [(320, "light"), (320, "dark"), (768, "dark"), (768, "light")])
def test_without_a_camera_the_finder_offers_what_remains(browser, base_url, console, width, scheme):
    """No camera on this machine (the shared browser has no fake one): the card says so and the
    ratings remain; the intro fits 320–768 px in light and dark."""
    context = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": 800}}, color_scheme=scheme)
    context.add_init_script("delete Navigator.prototype.bluetooth; delete navigator.bluetooth;")
    page = console.attach(context.new_page())
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/finder")
    page.get_by_text("It compares paces for you; it is not a medical measurement.").wait_for()
    page.get_by_role("button", name="Use the camera").click()
    page.get_by_text(re.compile(r"^(No camera could be used|The camera was not allowed)\. The finder works with your ratings alone\.$")).wait_for()
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    page.get_by_role("button", name="Begin").click()  # the ratings-only finder goes on
    page.locator(".pacer").wait_for()
    assert page.locator(".pulse-status").count() == 0
    context.close()


PULSE_RUN = """async ({ t, r, start }) => {
  const { PulseTracker } = await import('/js/pulse.js');
  const tracker = new PulseTracker();
  t.forEach((time, i) => {
    if (i === start) tracker.start();
    tracker.push(time, { r: r[i], g: r[i] * 28 / 190, b: r[i] * 18 / 190, spread: 4 });
  });
  return tracker.stop().rr;
}"""


# At 92 a minute each pulse has not faded when the next begins: the camera smooths the largest
# beat-to-beat changes a little (measured −7 % to −12 % RMSSD), as pulse-rate variability does.
@pytest.mark.parametrize("mean_hr, swing, seed, rmssd_within", [(58.0, 12.0, 1, 0.10), (74.0, 8.0, 2, 0.10), (92.0, 15.0, 3, 0.15)])
def test_the_pulse_maths_meet_the_goal_on_steady_frames(browser, base_url, console, mean_hr, swing, seed, rmssd_within):
    """pulse.js in Chromium on a minute of frame colours (as fingertip_video draws them, with
    sensor noise and 1 ms of stamp jitter, but no fake-camera timer): then the server's
    cleaning. Mean heart rate within 1 beat a minute, RMSSD within 10 % of the true series'
    (15 % at 92 a minute)."""
    recording = heartbeats([Segment(60.0, 5.5, swing)], mean_hr=mean_hr, jitter_ms=20.0,
                           premature_at_s=[35.0], seed=seed, lead_s=5.0)
    rng = np.random.default_rng(seed)
    frames = np.arange(int(65.0 * 30)) / 30
    stamps = (frames + rng.normal(0, 0.001, len(frames))) * 1000
    red = red_level(recording, frames) + rng.normal(0, 0.1, len(frames))
    context = browser.new_context(**PHONE)
    page = console.attach(context.new_page())
    page.goto(f"{base_url}/")
    rr = page.evaluate(PULSE_RUN, {"t": stamps.tolist(), "r": red.tolist(), "start": 5 * 30})
    context.close()

    matched, _ = match_beats(rr, recording.beats_s * 1000, (4000, 6500))
    assert (matched >= 0).all()
    errors = [r - (recording.beats_s[b] - recording.beats_s[a]) * 1000
              for r, a, b in zip(rr, matched, matched[1:]) if b == a + 1]
    clean = recording.normal_rr_ms[matched[0]:matched[-1]]
    got = resonance.analyse_step({"bpm": 5.5, "calm": 5, "comfort": 5, "rr_ms": rr, "source": "camera"})
    print(f"\nHR {got.mean_hr_bpm} / {60000 / np.mean(clean):.1f}, RMSSD {got.rmssd_ms} / {rmssd(clean):.1f}, "
          f"RR error mean {np.mean(np.abs(errors)):.1f} ms, corrected {got.corrected_beats}")
    assert got.corrected_beats >= 1 and got.reliable  # the premature beat, found and replaced
    assert np.mean(np.abs(errors)) < 5.0
    assert got.mean_hr_bpm == pytest.approx(60000 / np.mean(clean), abs=1.0)
    assert got.rmssd_ms == pytest.approx(rmssd(clean), rel=rmssd_within)
    assert got.hr_swing_bpm == pytest.approx(resonance.hr_swing(list(clean), 5.5)[0], rel=0.10)
