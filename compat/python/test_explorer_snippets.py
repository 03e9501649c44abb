"""The console's API Explorer snippets for Python, run as copied: the Go
test asked the Explorer (signed in as a user of the calls account) for the
code of a few calls and wrote each snippet to
DIALTONE_SNIPPETS/python/<generation>/<name>.py. This file runs in both
virtual environments: in .venv-rpc (alibabacloud_dyvmsapi20170525 1.0.2 on
tea-rpc) the "seed" generation's snippets, in .venv (5.3.0) the "newest"
ones, each with the version its install line names. A snippet reads the
secret from ALIBABA_CLOUD_ACCESS_KEY_SECRET, as the page tells the user; it
prints the response body as JSON, and the call is then followed to its
VoiceReport by CallId."""

import json
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from conftest import E, env, record

# The version each generation's install line names (console/clientlibs.go).
GENERATIONS = {"1.0.2": "seed", "5.3.0": "newest"}
INSTALLED = version("alibabacloud_dyvmsapi20170525")
GENERATION = GENERATIONS[INSTALLED]


@pytest.mark.parametrize("name", ["tts", "ivr", "clicktodial"])
def test_snippet(name, receipts, tmp_path):
    path = os.path.join(env("DIALTONE_SNIPPETS"), "python", GENERATION, name + ".py")
    run_env = dict(os.environ, ALIBABA_CLOUD_ACCESS_KEY_SECRET=E.secret)
    proc = subprocess.run([sys.executable, path], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    assert body["Code"] == "OK" and body["CallId"], body
    report = receipts.wait(call_id=body["CallId"])
    record("python console Explorer snippet (%s, %s)" % (GENERATION, INSTALLED), name, report["call_id"],
           report["status_code"], report["status_code"])
    assert report["status_code"] == "200000", report
