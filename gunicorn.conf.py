"""gunicorn settings read from the working directory.

With COACH_SCHEDULER=on (the default) each worker also runs the tick every 30 s; that is safe,
since a tick claims its rows (SKIP LOCKED) and records every delivery under a unique key,
but a deployment normally runs web workers with COACH_SCHEDULER=off and a separate
`flask --app wsgi coach scheduler` process.
"""


def on_starting(server):
    # `-w 4` does not reach the app (WEB_CONCURRENCY would): the master says it, once.
    from coach.api.limits import several_workers_warning
    from coach.config import from_env

    settings = from_env(".")
    words = several_workers_warning(server.cfg.workers, settings["RATELIMIT_STORAGE_URI"])
    if words and settings["RATELIMIT_ENABLED"]:
        server.log.warning(words)


def post_worker_init(worker):
    app = worker.wsgi
    config = getattr(app, "config", None)
    if config is not None and config.get("COACH_SCHEDULER") == "on":
        from coach.tick.scheduler import make_scheduler

        make_scheduler(app).start()
