"""The finder with the phone's camera: Chromium's fake camera plays a generated video of a
fingertip (tests/browser/fingertip_video.py) whose red follows a pulse wave built from a known
RR series: a heart-rate swing with each breath at the rate the pacer shows (largest at 5.5),
beat-to-beat jitter, sensor noise, three premature beats, and the finger lifted for 3 seconds
in the first pace.

The camera delivers frames in real time, so each quick pace records for 17 real seconds and the
page's clock (Playwright's) then skips the rest of the minute: the pulse is timed by the
frames' own capture times, never by the page's clock. The video runs one segment per pace, so
the pace on screen and the breathing in the video agree; the test starts each pace a second
into its segment.

Checked against the series the video was built from: the RR intervals the server received
(per interval, after aligning them to the true beats), each pace's mean heart rate (within
1 beat a minute) and RMSSD after cleaning (within 10 %), that the lifted stretch showed
"Recording paused" and gave no interval, and that best_bpm is the pace with the largest
built-in swing.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.models import ResonanceAssessment, User

from .conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, sign_up
from .fingertip_video import Segment, heartbeats, write_y4m

pytestmark = pytest.mark.browser

RATES = (6.5, 6.0, 5.5, 5.0, 4.5)
SWINGS = {6.5: 5.0, 6.0: 7.0, 5.5: 15.0, 5.0: 9.0, 4.5: 6.0}  # built-in peak-to-trough, beats a minute
MEAN_HR = 84.0
LEAD_S = 6.0  # video before the first pace: opening the camera and finding the pulse
SEGMENT_S = 20.0  # video per pace: 1 s to start it, 17 s recorded, 2 s to rate it
PACE_S = 17.0
LIFTED = (LEAD_S + 7.0, LEAD_S + 10.0)  # in the first pace
PREMATURE_AT = [LEAD_S + SEGMENT_S + 9.0, LEAD_S + 3 * SEGMENT_S + 8.0, LEAD_S + 4 * SEGMENT_S + 10.0]


def pace_start(k: int) -> float:
    return LEAD_S + k * SEGMENT_S + 1.0


@pytest.fixture(scope="module")
def fingertip(tmp_path_factory):
    recording = heartbeats([Segment(SEGMENT_S, bpm, SWINGS[bpm]) for bpm in RATES], mean_hr=MEAN_HR,
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


def match_beats(rr: list[float], true_beats: np.ndarray, near_s: tuple[float, float]) -> tuple[np.ndarray, list[float]]:
    """The index of the true beat each received beat is (-1 where none is within 60 ms), and
    the time shifts used. The beats are rebuilt from the intervals and shifted to fit the true
    beats, eight at a time: Chromium's fake camera stamps a frame when its timer fires, so a
    late tick on a busy machine moves all later frames' stamps against the video's own time."""
    got = np.concatenate([[0.0], np.cumsum(rr)]) / 1000.0
    out = np.full(len(got), -1)
    shifts = []
    i, lo, hi = 0, near_s[0], near_s[1]
    while i < len(got):
        piece = got[i:i + 8]
        shift = min(np.arange(lo, hi, 0.002), key=lambda s: np.sum(np.minimum(_nearest(true_beats, piece + s)[1], 0.06)))
        nearest, miss = _nearest(true_beats, got[i:] + shift)
        ok = miss < 0.06
        run = len(ok) if ok.all() else max(1, int(np.argmin(ok)))
        out[i:i + run] = np.where(ok[:run], nearest[:run], -1)
        shifts.append(round(float(shift), 3))
        i += run
        # The page drops the interval across a pause in the frames: the next beats come a
        # beat or more later than the sum of the intervals says.
        lo, hi = shift - 0.3, shift + 2.5
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
    context = camera_browser.new_context(**PHONE)
    page = console.attach(context.new_page())
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/api/resonance/assessments") else None)
    page.clock.install()
    email = sign_up(page, base_url)
    page.goto(f"{base_url}/#/finder")
    page.get_by_role("heading", name="Pulse from the camera (optional)").wait_for()
    page.get_by_label("Quick: 1 minute a pace").check()
    opened = time.monotonic()  # the fake camera starts its file when it is opened
    page.get_by_role("button", name="Use the camera").click()
    page.get_by_text("Pulse found.").wait_for(timeout=LEAD_S * 1000)
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
            page.get_by_text("Recording your pulse.").wait_for(timeout=9000)
        wait_until(opened + pace_start(k) + PACE_S)
        page.clock.run_for(70_000)  # the rest of the quick minute
        page.get_by_role("heading", name=f"How was {bpm:.1f} a minute?").wait_for()
    page.get_by_role("button", name="See the result").click()
    page.get_by_role("heading", name="Your resonance rate").wait_for()
    assert paused_seen

    # What the server received: every pace measured by the camera.
    (body,) = sent
    steps = body["steps"]
    assert [s["bpm"] for s in steps] == list(RATES)
    assert all(s["source"] == "camera" for s in steps)
    best, basis, figures = stored_steps(server_app, email)

    truth = recording.rr_ms()
    report = []
    errors_ms = []
    missed_beats = 0
    for k, (step, got) in enumerate(zip(steps, figures)):
        rr = step["rr_ms"]
        start, end = pace_start(k), pace_start(k) + PACE_S
        if k == 0:
            # The lifted stretch gave nothing: no interval spans it, and the pace recorded
            # about 3 seconds less than the others.
            assert max(rr) < 1.3 * 60000 / (MEAN_HR - SWINGS[6.5]), rr
            assert sum(rr) / 1000 < PACE_S - (LIFTED[1] - LIFTED[0]) + 0.5
            _, true_clean = recording.window(start, end)
            report.append((step["bpm"], len(rr), got["mean_hr_bpm"], round(60000 / np.mean(true_clean), 1), got["rmssd_ms"], None, got["corrected_beats"]))
            continue
        matched, shifts = match_beats(rr, recording.beats_s, (start - 3, start + 3))
        assert (matched >= 0).mean() > 0.9, matched  # the beats received are the video's beats
        # The true intervals behind the ones received, in the same order and with the same
        # joins (the page leaves out an interval across a pause in the frames), had no beat
        # been premature: what the server's cleaned figures should come back to.
        clean = []
        for i, r in enumerate(rr):
            a, b = matched[i], matched[i + 1]
            if a < 0 or b < 0 or b <= a:
                continue
            if b == a + 1:
                errors_ms.append(r - truth[a])
            else:
                missed_beats += b - a - 1  # a beat the camera could not see (a weak premature pulse)
            clean.extend(recording.normal_rr_ms[a:b])
        true_rmssd = rmssd(clean)
        true_hr = 60000 / np.mean(clean)
        report.append((step["bpm"], len(rr), got["mean_hr_bpm"], round(true_hr, 1), got["rmssd_ms"], round(true_rmssd, 1), got["corrected_beats"]))
    print("\npace, intervals, mean HR got/true, RMSSD got/true, corrected")
    for row in report:
        print(row)
    errors = np.abs(np.asarray(errors_ms))
    print(f"RR error: mean {errors.mean():.1f} ms, 95th percentile {np.percentile(errors, 95):.1f} ms, n={len(errors)}, missed {missed_beats}")
    print("best", best, basis, [(f["bpm"], f["hr_swing_bpm"], f["reliable"]) for f in figures])
    for bpm, n, hr, true_hr, got_rmssd, true_rmssd, _ in report:
        assert hr == pytest.approx(true_hr, abs=1.0), bpm  # mean heart rate within 1 beat a minute
        if true_rmssd is not None:
            assert n >= 15, bpm
            assert got_rmssd == pytest.approx(true_rmssd, rel=0.10), bpm  # RMSSD within 10 % after cleaning
    assert errors.mean() < 15 and errors.size >= 60
    # The pace with the largest swing built in wins, by the heart-rate swing.
    assert (best, basis) == (max(SWINGS, key=SWINGS.get), "hr_swing")
    assert page.locator(".result-big").inner_text() == "5.5 breaths a minute"
    assert "Beats corrected" in page.locator("thead").inner_text()
    assert page.get_by_text("From the camera, the pulse is close to, but not the same as").is_visible()
    console.assert_clean()
    context.close()
