"""Stamps pwa/sw.js with a digest of the shell so every change ships as a new cache.

The service worker's VERSION names its precache; a changed file with an unchanged VERSION
would never reach installed phones. Run after editing anything under pwa/:
    python scripts/pwa_version.py          # rewrite VERSION
    python scripts/pwa_version.py --check  # exit 1 if it is stale (the tests do this too)
"""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

PWA = Path(__file__).resolve().parent.parent / "pwa"
VERSION_LINE = re.compile(r"^const VERSION = 'coach-([0-9a-f]+)';$", re.M)


def shell_files() -> list[Path]:
    return sorted(p for p in PWA.rglob("*") if p.is_file() and p.name != "sw.js")


def digest() -> str:
    h = hashlib.sha256()
    for path in shell_files():
        h.update(str(path.relative_to(PWA)).encode() + b"\0" + path.read_bytes() + b"\0")
    # sw.js itself, less its VERSION line, so edits to the worker count too.
    h.update(VERSION_LINE.sub("", (PWA / "sw.js").read_text()).encode())
    return h.hexdigest()[:8]


def main() -> int:
    sw = PWA / "sw.js"
    text = sw.read_text()
    want = digest()
    match = VERSION_LINE.search(text)
    if "--check" in sys.argv:
        if not match or match.group(1) != want:
            print(f"pwa/sw.js VERSION is stale: run python scripts/pwa_version.py (want coach-{want})")
            return 1
        return 0
    sw.write_text(VERSION_LINE.sub(f"const VERSION = 'coach-{want}';", text))
    print(f"VERSION = coach-{want}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
