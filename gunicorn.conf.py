"""gunicorn settings read from the working directory.

With COACH_SCHEDULER=on (the default) each worker also runs the tick every 30 s; that is safe,
since a tick claims its rows (SKIP LOCKED) and records every delivery under a unique key,
but a deployment normally runs web workers with COACH_SCHEDULER=off and a separate
`flask --app wsgi coach scheduler` process.
"""


def post_worker_init(worker):
    app = worker.wsgi
    config = getattr(app, "config", None)
    if config is not None and config.get("COACH_SCHEDULER") == "on":
        from coach.scheduler import make_scheduler

        make_scheduler(app).start()
