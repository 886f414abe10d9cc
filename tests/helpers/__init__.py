"""What the tests (and bench/) share, one module for each thing it holds; fixtures are in
tests/conftest.py. Import as `from tests.helpers.<module> import …`.

accounts   sign-up and log-in through the API (`signup`, `PASSWORD`)
apps       apps from the factory with the tests' configuration; their databases made and emptied
browser    Chromium's settings, the phone viewport, sign-up through the onboarding screen
digest     weekly-summary users planned from an instant, delivery rows, messages parsed back
pg         the PostgreSQL test server (`PG_URL`) and databases of one's own made and dropped
processes  the coach's commands run as real processes, as an operator runs them
push       the loopback Web Push service, browser devices, VAPID keys
seeds      thousands of due reminders or weekly summaries bulk-inserted
sessions   practice sessions written through the API
smtp       loopback SMTP servers (aiosmtpd), a self-signed certificate, a free port
"""
