"""The README's command-line lines work as written from a checkout, and without a secret key
outside development the app still refuses to start."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
UNSET = {"DATABASE_URL", "SECRET_KEY", "MAIL_URL", "COACH_DEV", "FLASK_DEBUG", "VAPID_PRIVATE_KEY"}


def _readme_commands() -> dict[str, str]:
    """The README's `Command line` block: {"db upgrade": line, "coach tick": line, …}."""
    section = (ROOT / "README.md").read_text().split("## Command line", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    found = {}
    for line in filter(None, lines):
        words = shlex.split(line.replace("[--at RFC3339]", ""))
        at = words.index("flask")
        found[" ".join(words[at + 3 : at + 5])] = line
    return found


def _run(line: str, instance: Path) -> subprocess.CompletedProcess:
    words = shlex.split(line.replace("[--at RFC3339]", ""))
    at = words.index("flask")
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(dict(word.split("=", 1) for word in words[:at]))  # the line's own settings
    env["COACH_INSTANCE_PATH"] = str(instance)
    return subprocess.run([FLASK, *words[at + 1 :]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_readme_commands_run_as_written(tmp_path):
    commands = _readme_commands()
    assert {"db upgrade", "coach tick", "coach scheduler", "coach serve"} <= set(commands)
    upgrade = _run(commands["db upgrade"], tmp_path / "instance")
    assert upgrade.returncode == 0, upgrade.stderr
    tick = _run(commands["coach tick"], tmp_path / "instance")
    assert tick.returncode == 0, tick.stderr
    assert tick.stdout.startswith("tick at "), tick.stdout


def test_without_a_secret_key_outside_development_the_app_refuses_to_start(tmp_path):
    refused = _run("flask --app wsgi coach tick", tmp_path / "instance")
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr
    assert not (tmp_path / "instance" / "secret_key").exists()  # and made no key of its own
