"""The seed's Python receipt sample (section 5.3), samples/receipt_sample.py,
run as a script against Dialtone: it must print the VoiceReport of a call
this test placed.

The file is the seed's text with its extraction damage repaired (the module
names read "aliynsdk..." and the indentation was lost) and nothing else.
This test changes exactly the lines the brief allows, by replacing the
seed's placeholders and endpoints in a copy: the credentials, the queue
name, the message type and the two endpoint lines. The second endpoint line
also swaps two arguments: the seed calls
region_provider.add_endpoint("Dybaseapi", "dybaseapi.aliyuncs.com", "cn-hangzhou"),
while aliyunsdkcore's signature is add_endpoint(product_name, region_id,
end_point); against Alibaba the swap goes unnoticed because the SDK's
built-in endpoint of Dybaseapi is that same host, against any other
endpoint the line must name the region second.
"""

import os
import selectors
import subprocess
import sys
import time

from aliyunsdkcore.client import AcsClient
from aliyunsdkdyvmsapi.request.v20170525.SingleCallByTtsRequest import SingleCallByTtsRequest

from conftest import E, record, DEADLINE, SHOW_NUMBER, SUB_LISTENS, TPL_NOTIFY

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "samples", "receipt_sample.py")


def sample_for_dialtone():
    with open(SAMPLE, encoding="utf-8") as f:
        text = f.read()
    changes = [
        ('message_type = "<MessageType>"', 'message_type = "VoiceReport"'),
        ('queue_name = "<QueueName>"', 'queue_name = "Alicom-Queue-%s-VoiceReport"' % E.uid),
        ('endpoint = "http://1943695596114318.mns.cn-hangzhou.aliyuncs.com"', 'endpoint = "http://%s"' % E.calls),
        ('AcsClient("<AccessKeyId>", "<AccessKeySecret>", "cn-hangzhou")',
         'AcsClient("%s", "%s", "cn-hangzhou")' % (E.ak, E.secret)),
        ('region_provider.add_endpoint("Dybaseapi", "dybaseapi.aliyuncs.com", "cn-hangzhou")',
         'region_provider.add_endpoint("Dybaseapi", "cn-hangzhou", "%s")' % E.calls),
    ]
    for old, new in changes:
        assert text.count(old) == 1, "the sample has no single line %r" % old
        text = text.replace(old, new)
    return text


def test_sample_is_the_seed_but_five_lines():
    with open(SAMPLE, encoding="utf-8") as f:
        original = f.read().splitlines()
    changed = sample_for_dialtone().splitlines()
    assert len(original) == len(changed)
    diff = [(a, b) for a, b in zip(original, changed) if a != b]
    assert len(diff) == 5, diff


def test_receipt_sample_prints_the_voice_report(tmp_path):
    # A call through the classic client; the sample must print its report.
    acs = AcsClient(E.ak, E.secret, "cn-hangzhou")
    request = SingleCallByTtsRequest()
    request.set_endpoint(E.calls)
    request.set_CalledShowNumber(SHOW_NUMBER)
    request.set_CalledNumber(SUB_LISTENS)
    request.set_TtsCode(TPL_NOTIFY)
    request.set_TtsParam('{"name":"Sample","order":"S-1"}')
    request.set_OutId("py-sample")
    import json
    body = json.loads(acs.do_action_with_exception(request))
    assert body["Code"] == "OK", body
    call_id = body["CallId"]

    script = tmp_path / "receipt_sample.py"
    script.write_text(sample_for_dialtone(), encoding="utf-8")
    # The sample loops for ever (as the seed's does): it is stopped once it
    # printed the report, or at the deadline.
    proc = subprocess.Popen([sys.executable, "-u", str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines, found = [], None
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + DEADLINE
        buf = b""
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            if not sel.select(timeout=0.5):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                lines.append(text)
                if text.startswith("Receive Message Succeed!") and ('"call_id":"%s"' % call_id) in text:
                    found = text
    finally:
        proc.kill()
        proc.wait(timeout=10)
    output = "\n".join(lines)
    assert "finish refresh token..." in output, output
    assert found, "the sample did not print the VoiceReport of %s:\n%s" % (call_id, output)
    # The sample prints the body as the SDK decoded it (bytes of the JSON).
    assert '"status_code":"200000"' in found and '"out_id":"py-sample"' in found, found
    record("python seed receipt sample (aliyun-python-sdk-dybaseapi 1.0.8)", "VoiceReport", call_id, "200000", "200000")
