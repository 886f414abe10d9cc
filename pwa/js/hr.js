// An optional heart-rate strap over Web Bluetooth (Heart Rate service 0x180D).

/**
 * Heart Rate Measurement (Bluetooth GATT 0x2A37), little-endian:
 * flags (1 byte): bit 0 heart rate as uint16 (else uint8); bit 1 skin contact detected,
 * bit 2 contact detection supported; bit 3 energy expended (uint16, kJ) present; bit 4 RR
 * intervals present: uint16 each in 1/1024 s, as many as fit. Returns {bpm, contact
 * (true/false, or null when not supported), energy (or null), rr: [ms]}, or null for bytes too
 * short to hold what the flags announce.
 */
export function parseHeartRate(view) {
  if (view.byteLength < 2) return null;
  const flags = view.getUint8(0);
  const wide = flags & 0x01;
  let at = wide ? 3 : 2;
  if (view.byteLength < at) return null;
  const bpm = wide ? view.getUint16(1, true) : view.getUint8(1);
  let energy = null;
  if (flags & 0x08) {
    if (view.byteLength < at + 2) return null;
    energy = view.getUint16(at, true);
    at += 2;
  }
  const rr = [];
  if (flags & 0x10) {
    for (; at + 2 <= view.byteLength; at += 2) rr.push((view.getUint16(at, true) * 1000) / 1024);
  }
  return { bpm, contact: flags & 0x04 ? Boolean(flags & 0x02) : null, energy, rr };
}

export const hasBluetooth = () => typeof navigator !== 'undefined' && 'bluetooth' in navigator;

/** Ask for a strap (from a tap); onData(reading) per notification. Resolves {name, disconnect}. */
export async function connectStrap(onData, onGone) {
  const device = await navigator.bluetooth.requestDevice({ filters: [{ services: ['heart_rate'] }] });
  device.addEventListener('gattserverdisconnected', () => onGone?.());
  const server = await device.gatt.connect();
  const service = await server.getPrimaryService('heart_rate');
  const characteristic = await service.getCharacteristic('heart_rate_measurement');
  characteristic.addEventListener('characteristicvaluechanged', (ev) => {
    const reading = parseHeartRate(ev.target.value);
    if (reading) onData(reading);
  });
  await characteristic.startNotifications();
  return {
    name: device.name || 'Heart-rate strap',
    disconnect() {
      try { device.gatt.disconnect(); } catch { /* already gone */ }
    },
  };
}
