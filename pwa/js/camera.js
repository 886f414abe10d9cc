// The phone's rear camera as a pulse sensor: a fingertip over the lens and its light. Frames
// come by requestVideoFrameCallback (each with its capture time) and go to pulse-worker.js,
// or, where a worker cannot draw (no OffscreenCanvas), to the same PulseTracker on the page.
// The light runs only while a pace is recorded and in the short check before the first: it
// warms the phone and uses the battery.
import { PulseTracker, frameColour } from './pulse.js';

export const hasCamera = () => typeof navigator !== 'undefined' && Boolean(navigator.mediaDevices?.getUserMedia);

/** What to do for each state of the picture (see pulse.js `quality`). */
export function advice(state, torch) {
  switch (state) {
    case 'cover': return 'Cover the lens and the light completely with a fingertip.';
    case 'dark': return torch ? 'Too little light: cover the lens and the light completely.'
      : 'Too little light: hold your hand towards a lamp or a window, the fingertip over the lens.';
    case 'still': return 'Rest your hand and keep still.';
    case 'searching': return 'Finding your pulse… Rest the fingertip lightly: pressing hard hides it.';
    case 'good': return 'Pulse found.';
    default: return 'Starting the camera…';
  }
}

function pageReader(onStatus) {
  const W = 32, H = 24;
  const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(W, H) : Object.assign(document.createElement('canvas'), { width: W, height: H });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const tracker = new PulseTracker();
  let said = null;
  return {
    frame(video, t, frames) {
      ctx.drawImage(video, 0, 0, W, H);
      const status = tracker.push(t, frameColour(ctx.getImageData(0, 0, W, H).data), frames);
      const key = `${status.state}:${status.bpm}`;
      if (key !== said) { said = key; onStatus(status); }
    },
    start: () => tracker.start(),
    stop: async () => tracker.stop(),
    close() {},
  };
}

function workerReader(onStatus) {
  const worker = new Worker(new URL('./pulse-worker.js', import.meta.url), { type: 'module' });
  const waiting = new Map();
  let next = 0;
  worker.onmessage = ({ data }) => {
    if (data.type === 'status') onStatus(data);
    else if (data.type === 'result') { waiting.get(data.id)?.(data); waiting.delete(data.id); }
  };
  return {
    frame(video, t, frames) {
      const frame = new VideoFrame(video, { timestamp: Math.round(t * 1000) });
      worker.postMessage({ type: 'frame', frame, t, frames }, [frame]);
    },
    start: () => worker.postMessage({ type: 'start' }),
    stop() {
      const id = (next += 1);
      return new Promise((resolve) => { waiting.set(id, resolve); worker.postMessage({ type: 'stop', id }); });
    },
    close: () => worker.terminate(),
  };
}

/**
 * Open the rear camera (from a tap) and start reading the pulse; onStatus({state, bpm}) as
 * the picture changes. Resolves {video, torch, light(on), attach(parent), start(),
 * stop() → {rr, seconds}, close()}; rejects when there is no camera or it is refused.
 */
export async function openCamera(onStatus) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 30 } },
  });
  const [track] = stream.getVideoTracks();
  const video = document.createElement('video');
  Object.assign(video, { muted: true, playsInline: true, srcObject: stream });
  video.setAttribute('aria-hidden', 'true');
  video.className = 'pulse-preview';
  await video.play();

  const canTorch = Boolean(track.getCapabilities?.().torch);
  const light = async (on) => {
    if (!canTorch) return false;
    try { await track.applyConstraints({ advanced: [{ torch: on }] }); return true; } catch { return false; }
  };
  const torch = await light(true);

  const useWorker = typeof Worker === 'function' && typeof OffscreenCanvas === 'function' && typeof VideoFrame === 'function';
  const reader = useWorker ? workerReader(onStatus) : pageReader(onStatus);
  let closed = false;
  // Capture time where the browser gives it (the camera's own clock), else the frame's media
  // time: never the page's clock, which a paused tab or a test's fake clock may bend.
  // One clock for the whole run, chosen at the first frame.
  let clock = null;
  const stamp = (meta, now) => {
    clock ??= meta.captureTime !== undefined ? 'capture' : meta.mediaTime !== undefined ? 'media' : 'now';
    return clock === 'capture' ? meta.captureTime : clock === 'media' ? meta.mediaTime * 1000 : now;
  };
  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    let presented = null;
    const onFrame = (now, meta) => {
      if (closed) return;
      // Frames presented since the last one read: the page may skip some when busy.
      const frames = presented === null || meta.presentedFrames === undefined ? 1 : meta.presentedFrames - presented;
      presented = meta.presentedFrames ?? null;
      reader.frame(video, stamp(meta, now), frames);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    let last = -1;
    const onFrame = (now) => {
      if (closed) return;
      if (video.currentTime !== last) { last = video.currentTime; reader.frame(video, last * 1000); }
      requestAnimationFrame(onFrame);
    };
    requestAnimationFrame(onFrame);
  }

  return {
    video,
    torch,
    light,
    /** Show the preview in `parent`: a media element taken out of the page pauses, so each
     *  screen that records puts it back and plays it. */
    attach(parent) {
      parent.append(video);
      video.play().catch(() => {});
    },
    start: () => reader.start(),
    stop: () => reader.stop(),
    close() {
      closed = true;
      reader.close();
      for (const t of stream.getTracks()) t.stop();
      video.srcObject = null;
    },
  };
}
