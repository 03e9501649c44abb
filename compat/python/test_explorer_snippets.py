"""The console's API Explorer snippets for Python, run as copied: the Go
test asked the Explorer (signed in as a user of the calls account) for the
code of a few calls and wrote each snippet to DIALTONE_SNIPPETS/python. A
snippet reads the secret from ALIBABA_CLOUD_ACCESS_KEY_SECRET, as the page
tells the user. Each call is then followed to its VoiceReport by OutId.
Runs in the venv of requirements.txt (the newest client)."""

import os
import subprocess
import sys

import pytest

from conftest import E, env, record

SNIPPETS = [
    ("tts", "explorer-tts", "200000"),
    ("ivr", "explorer-ivr", "200000"),
]


@pytest.mark.parametrize("name,out_id,want", SNIPPETS)
def test_snippet(name, out_id, want, receipts, tmp_path):
    path = os.path.join(env("DIALTONE_SNIPPETS"), "python", name + ".py")
    run_env = dict(os.environ, ALIBABA_CLOUD_ACCESS_KEY_SECRET=E.secret)
    proc = subprocess.run([sys.executable, path], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "'Code': 'OK'" in proc.stdout, proc.stdout
    report = receipts.wait(out_id=out_id)
    record("python console Explorer snippet", name, report["call_id"], report["status_code"], report["status_code"])
    assert report["status_code"] == want, report


def test_click_to_dial_snippet_says_why_there_is_none():
    with open(os.path.join(env("DIALTONE_SNIPPETS"), "python", "clicktodial.py"), encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("#") and "ClickToDial" in text, text
