"""`flask --app wsgi coach …`: tick, scheduler, serve."""
from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from .models import utcnow
from .tick.lease import stopping
from .tick.scheduler import make_scheduler, tick
from .timeutil import parse_instant

coach_cli = AppGroup("coach", help="Run the scheduler tick, the scheduler, or the development server.")


class InstantType(click.ParamType):
    name = "RFC3339"

    def convert(self, value, param, ctx):
        try:
            return parse_instant(value)
        except ValueError as exc:
            self.fail(f"{value!r} is not an RFC 3339 instant with an offset ({exc})", param, ctx)


@coach_cli.command("tick")
@click.option("--at", "at", type=InstantType(), help="Run the tick as if at this instant.")
def tick_command(at):
    """Run one scheduler tick: send every due reminder and digest, then exit."""
    report = tick(at or utcnow())
    click.echo(f"tick at {report.at.isoformat()}: " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
    if report.failed:
        raise click.ClickException(f"failed steps: {', '.join(report.failed)} (see the log)")


@coach_cli.command("scheduler")
def scheduler_command():
    """Run the scheduler alone (web workers then run with COACH_SCHEDULER=off)."""
    scheduler = make_scheduler(current_app._get_current_object(), blocking=True)

    def stop(signum, _frame):
        # Graceful: the running tick finishes the batch it claimed and claims no more (the
        # rest stays due for the next scheduler), and no new tick starts.
        click.echo(f"scheduler: {signal.Signals(signum).name}, finishing the current batch…")
        stopping.set()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo("scheduler: ticking every 30 s; SIGTERM or Ctrl-C stops it after the current batch")
    scheduler.start()
    click.echo("scheduler: stopped")


@coach_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host, port):
    """Development server: upgrades the schema, runs the API, the front end and (unless
    COACH_SCHEDULER=off) the scheduler in one process."""
    app = current_app._get_current_object()
    upgrade()
    scheduler = None
    if app.config["COACH_SCHEDULER"] == "on":
        scheduler = make_scheduler(app)
        scheduler.start()
    try:
        # Said here, not by werkzeug's logger: the app's request log replaces werkzeug's lines.
        click.echo(f" * Running on http://{host}:{port} (Ctrl-C to quit)")
        # run_simple, not app.run(): Flask ignores app.run() inside its own CLI.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler:
            scheduler.shutdown(wait=True)
