"""Draws the app icons as PNGs with the standard library only (zlib + struct).

The motif is the breathing pacer itself: a soft disc inside a ring on a deep teal ground.
`any` icons have rounded corners and transparent outside; the maskable one is full-bleed
with the motif inside the central 80 % safe zone. Run: python scripts/make_icons.py
"""
from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "pwa" / "icons"
BG_TOP, BG_BOTTOM = (22, 78, 99), (15, 52, 67)  # deep teal gradient
RING, DISC = (167, 232, 221), (94, 196, 182)
SAMPLES = 3  # supersampling per axis, for smooth edges


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def mix(a, b, t):
    return tuple(a[i] + (b[i] - a[i]) * t for i in range(3))


def shade(x: float, y: float, size: int, maskable: bool):
    """Colour and alpha at a point (x, y in pixels)."""
    u, v = x / size, y / size
    if not maskable:  # rounded square, radius 22 % of the side
        r = 0.22
        cx, cy = min(max(u, r), 1 - r), min(max(v, r), 1 - r)
        if math.hypot(u - cx, v - cy) > r:
            return (0, 0, 0), 0.0
    colour = mix(BG_TOP, BG_BOTTOM, v)
    scale = 0.8 if maskable else 1.0  # keep the motif inside the maskable safe zone
    d = math.hypot(u - 0.5, v - 0.5) / scale
    if d < 0.25:
        colour = mix(DISC, RING, max(0.0, 0.25 - d) * 1.6)
    elif 0.31 < d < 0.345:
        colour = RING
    return colour, 1.0


def draw(size: int, maskable: bool) -> bytes:
    rows = []
    step = 1 / SAMPLES
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0.0, 0.0, 0.0]
            alpha = 0.0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c, a = shade(px + (sx + 0.5) * step, py + (sy + 0.5) * step, size, maskable)
                    alpha += a
                    for i in range(3):
                        acc[i] += c[i] * a
            n = SAMPLES * SAMPLES
            if alpha:
                row += bytes(round(acc[i] / alpha) for i in range(3))
            else:
                row += b"\x00\x00\x00"
            row.append(round(255 * alpha / n))
        rows.append(bytes(row))
    return png(size, size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("maskable-512.png", 512, True),
        ("apple-touch-icon.png", 180, True),  # iOS draws its own corners; no transparency
    ):
        (OUT / name).write_bytes(draw(size, maskable))
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
