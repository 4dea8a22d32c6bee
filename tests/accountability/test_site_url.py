"""Links in emails and SMS point at the port `make run` serves on (issue 15).

`make run PORT=8123` starts Procfile.dev with honcho, which gives each process after the web its
own PORT (8223, 8323...): the workers that send the emails and SMS cannot derive the site's
address from PORT. The Makefile sets SITE_URL from its PORT for all of them; settings derive it
from PORT only when nothing sets it (manage.py runserver on its own).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Each process prints the link a notification email or SMS would carry (absolute_url), then waits
# for the other one, so honcho (which stops everything when one process ends) lets both finish.
PROBE = textwrap.dedent(
    """
    import os, pathlib, sys, time
    sys.path.insert(0, os.getcwd())  # honcho -d: the project
    import django
    django.setup()
    from accountability.notifications.services import absolute_url
    out = pathlib.Path(sys.argv[1])
    name = os.environ["HONCHO_PROCESS_NAME"]
    (out / name).write_text(os.environ["PORT"] + " " + absolute_url("/leads/1/"))
    deadline = time.time() + 60
    while len(list(out.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.1)
    """
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SITE_URL", "PORT", "DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MAKELEVEL"}
    }
    env.update({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "accountability.settings", **extra})
    return env


def site_url(**env: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)",
        ],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_site_url_follows_port_when_not_set():
    assert site_url() == "http://127.0.0.1:8000"
    assert site_url(PORT="8123") == "http://127.0.0.1:8123"
    assert site_url(PORT="8123", SITE_URL="https://acc.example.com/") == "https://acc.example.com"


@pytest.mark.skipif(not (BIN / "honcho").exists(), reason="honcho is not installed")
def test_make_run_on_port_8123_links_every_process_to_8123(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    procfile = tmp_path / "Procfile"
    # The same two kinds of process as Procfile.dev: the web, then a worker (honcho: PORT + 100).
    procfile.write_text(f"web: {sys.executable} {probe} {out}\nworker: {sys.executable} {probe} {out}\n")
    makefile = tmp_path / "probe.mk"
    # The real Makefile's variables, and a target starting honcho as `make run` does.
    makefile.write_text(f"probe:\n\t{BIN / 'honcho'} -f {procfile} -d {ROOT} start\n")
    result = subprocess.run(
        ["make", "-s", "-f", "Makefile", "-f", str(makefile), "PORT=8123", "probe"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    seen = {path.name: path.read_text() for path in out.iterdir()}
    assert seen == {
        "web.1": "8123 http://127.0.0.1:8123/leads/1/",
        "worker.1": "8223 http://127.0.0.1:8123/leads/1/",  # its own PORT, the site's links
    }
