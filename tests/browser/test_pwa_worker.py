"""The service worker as Chromium runs it: it never answers the server's own paths from a
cache (the list the server writes into sw.js), and a new version reaches an open app through
the "Update" tap."""
from __future__ import annotations

import shutil

from coach import server_paths
from coach.pages import shell


def _controlled(page, base_url):
    page.goto(f"{base_url}/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)


def test_the_worker_never_answers_the_server_paths_from_a_cache(persistent, base_url):
    context, page = persistent
    _controlled(page, base_url)
    paths = ["/healthz", "/api/routines", "/unsubscribe/not-a-token", "/manifest.webmanifest"]
    statuses = page.evaluate("(paths) => Promise.all(paths.map((p) => fetch(p).then((r) => r.status)))", paths)
    assert statuses == [200, 401, 400, 200]
    cached = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        }
        return urls;
    }""")
    assert "/manifest.webmanifest" in cached  # the shell is cached …
    assert not [u for u in cached if u.startswith(server_paths.SERVER)], cached  # … the server's paths never
    context.set_offline(True)
    offline = page.evaluate(
        "(paths) => Promise.all(paths.map((p) => fetch(p).then(() => 'answered', () => 'network error')))", paths
    )
    assert offline == ["network error"] * 3 + ["answered"]
    context.set_offline(False)



def test_a_new_version_is_installed_by_the_update_tap(persistent, base_url, monkeypatch, tmp_path):
    context, page = persistent
    _controlled(page, base_url)
    old_caches = page.evaluate("caches.keys()")
    # A release: the same shell with a new VERSION, served by the same running server.
    release = tmp_path / "pwa"
    shutil.copytree(shell.PWA_DIR, release)
    sw = release / "sw.js"
    sw.write_text(sw.read_text().replace("const VERSION = 'coach-", "const VERSION = 'coach-0"))
    monkeypatch.setattr(shell, "PWA_DIR", release)

    page.evaluate("navigator.serviceWorker.getRegistration().then((reg) => reg.update())")
    page.get_by_text("A new version of the coach is ready.").wait_for(timeout=15000)
    page.evaluate("window.beforeTheUpdate = true")
    page.get_by_role("button", name="Update").click()
    # The waiting worker takes over, the app reloads under it, and the old version's caches go.
    page.wait_for_function("() => !window.beforeTheUpdate && navigator.serviceWorker.controller !== null", timeout=15000)
    page.wait_for_function(
        """(old) => caches.keys().then((names) =>
            names.some((n) => n.startsWith('coach-0')) && !names.some((n) => old.includes(n)))""",
        arg=old_caches,
        timeout=15000,
    )
    # The new worker still keeps the server's paths out of its caches.
    assert page.evaluate("fetch('/healthz').then((r) => r.status)") == 200
    context.set_offline(True)
    assert page.evaluate("fetch('/healthz').then(() => 'answered', () => 'network error')") == "network error"
    context.set_offline(False)
