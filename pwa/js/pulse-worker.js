// Reads camera frames off the page's thread: each frame (a VideoFrame or ImageBitmap, handed
// over, not copied) is drawn into a small OffscreenCanvas, its mean colour taken and fed to the
// PulseTracker; the page hears the picture's state (when it changes, or the rate each second)
// and, on 'stop', the intervals recorded.
import { PulseTracker, frameColour } from './pulse.js';

const W = 32, H = 24; // the browser averages the frame down: a tiny canvas is the mean's first step
const canvas = new OffscreenCanvas(W, H);
const ctx = canvas.getContext('2d', { willReadFrequently: true });
const tracker = new PulseTracker();
let said = null;

self.onmessage = ({ data }) => {
  if (data.type === 'frame') {
    ctx.drawImage(data.frame, 0, 0, W, H);
    data.frame.close();
    const status = tracker.push(data.t, frameColour(ctx.getImageData(0, 0, W, H).data), data.frames);
    const key = `${status.state}:${status.bpm}`;
    if (key !== said) {
      said = key;
      self.postMessage({ type: 'status', ...status });
    }
  } else if (data.type === 'start') {
    tracker.start();
  } else if (data.type === 'stop') {
    self.postMessage({ type: 'result', id: data.id, ...tracker.stop() });
  }
};
