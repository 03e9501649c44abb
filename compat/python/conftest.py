"""Shared set-up of the Python compatibility tests.

The Go test TestPythonClients (compat/clients_test.go) starts the servers and
proxies and passes their addresses and keys in DIALTONE_* environment
variables; see compat/README.md. Numbers, templates and the voice file are
those of compat/testdata/calls.yaml.
"""

import json
import os
import time

import pytest

from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.profile import region_provider
from aliyunsdkdybaseapi.request.v20170525.QueryTokenForMnsQueueRequest import QueryTokenForMnsQueueRequest
from aliyunsdkdybaseapi.mns.account import Account
from aliyunsdkdybaseapi.mns.mns_exception import MNSExceptionBase

# testdata/calls.yaml
SHOW_NUMBER = "057188880000"
SHOW_NUMBER_2 = "057188880001"
VOICE_CODE = "compat-notice.wav"
SUB_LISTENS = "13900000001"
SUB_PRESSES_2 = "13900000005"
SUB_NEVER_KEYS = "13900000006"
SUB_TALKS = "13900000007"
CTD_CALLER = "13900000011"
CTD_CALLEE = "13900000012"  # talks 5 s, then hangs up
CTD_CALLER_LONG = "13900000013"  # rings 40 s
TPL_NOTIFY = "TTS_900002"
TPL_IVR_MENU = "TTS_900003"
TPL_SALES = "TTS_900004"
TPL_SUPPORT = "TTS_900005"

PROD_VOICE_NOTIFY = 11000000300006
PROD_IVR = 11000000300005
PROD_CLICK_TO_DIAL = 11000000300004
PROD_SMART_CALL = 11030000180001

# Intermediate states of a call in progress.
LIVE_STATES = {"200101", "200102", "200103", "200201"}
DEADLINE = 30  # seconds, for every wait


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            "environment variable %s is not set; run the suite with 'go test -run TestPythonClients' in compat" % name)
    return value


class Env:
    calls = property(lambda self: env("DIALTONE_CALLS_ENDPOINT"))
    uid = property(lambda self: env("DIALTONE_CALLS_UID"))
    ak = property(lambda self: env("DIALTONE_CALLS_AK"))
    secret = property(lambda self: env("DIALTONE_CALLS_SECRET"))


E = Env()

# The error cases: (name, proxy variable, key id variable, secret variable,
# code, HTTP status). Each runs QueryCallDetailByCallId for an unknown call
# through a loopback proxy of the Go test.
ERROR_CASES = [
    ("wrongSecret", "DIALTONE_PASS_PROXY", "DIALTONE_FULL_AK", "DIALTONE_WRONG_SECRET", "SignatureDoesNotMatch", 400),
    ("unknownKey", "DIALTONE_PASS_PROXY", "DIALTONE_UNKNOWN_AK", "DIALTONE_WRONG_SECRET", "InvalidAccessKeyId.NotFound", 404),
    ("disabledKey", "DIALTONE_PASS_PROXY", "DIALTONE_DISABLED_AK", "DIALTONE_DISABLED_SECRET", "InvalidAccessKeyId.Inactive", 400),
    ("replay", "DIALTONE_DUP_PROXY", "DIALTONE_FULL_AK", "DIALTONE_FULL_SECRET", "SignatureNonceUsed", 400),
    ("oldTimestamp", "DIALTONE_DELAY_PROXY", "DIALTONE_FULL_AK", "DIALTONE_FULL_SECRET", "InvalidTimeStamp.Expired", 400),
]
UNKNOWN_CALL_ID = "116012354148^102813780000"


def error_case_params():
    return [pytest.param(c, id=c[0]) for c in ERROR_CASES]


def query_date():
    return int(time.time() * 1000)


def wait_final(query, call_id, prod_id):
    """Polls query(call_id, prod_id) -> Data (a JSON string or None) until
    the call has a final state; returns the parsed Data."""
    deadline = time.monotonic() + DEADLINE
    last = None
    while time.monotonic() < deadline:
        data = query(call_id, prod_id)
        if data:
            last = data
            detail = json.loads(data)
            state = detail.get("state", "")
            if state and state not in LIVE_STATES:
                for key in ("caller", "callee", "gmtCreate", "state", "stateDesc"):
                    assert key in detail, "Data lacks %s: %s" % (key, data)
                return detail
        time.sleep(0.05)
    raise AssertionError("call %s not final within %ss; last Data %s" % (call_id, DEADLINE, last))


class Receipts:
    """Reads the account's VoiceReport queue with aliyun-python-sdk-dybaseapi
    (QueryTokenForMnsQueue, then its mns package), deleting every message
    read and keeping the bodies by call_id and out_id."""

    def __init__(self):
        self.queue_name = "Alicom-Queue-%s-VoiceReport" % E.uid
        region_provider.add_endpoint("Dybaseapi", "cn-hangzhou", E.calls)
        self.acs = AcsClient(E.ak, E.secret, "cn-hangzhou")
        self.by_call, self.by_out = {}, {}
        self.queue = None

    def _connect(self):
        request = QueryTokenForMnsQueueRequest()
        request.set_MessageType("VoiceReport")
        request.set_QueueName(self.queue_name)
        body = json.loads(self.acs.do_action_with_exception(request))
        assert body["Code"] == "OK", body
        tok = body["MessageTokenDTO"]
        account = Account("http://" + E.calls, tok["AccessKeyId"], tok["AccessKeySecret"], tok["SecurityToken"])
        self.queue = account.get_queue(self.queue_name)

    def _poll(self):
        if self.queue is None:
            self._connect()
        try:
            msgs = self.queue.batch_receive_message(10, 1)
        except MNSExceptionBase as e:
            if e.type == "MessageNotExist":
                return
            raise
        for m in msgs:
            body = json.loads(m.message_body)
            self.by_call[body["call_id"]] = body
            if body.get("out_id"):
                self.by_out[body["out_id"]] = body
        self.queue.batch_delete_message([m.receipt_handle for m in msgs])

    def wait(self, call_id=None, out_id=None):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            got = self.by_call.get(call_id) if call_id else self.by_out.get(out_id)
            if got:
                return got
            self._poll()
        raise AssertionError("no VoiceReport for call %s / out_id %s within %ss" % (call_id, out_id, DEADLINE))


@pytest.fixture(scope="session")
def receipts():
    return Receipts()


def record(client, action, call_id, state, receipt):
    """Appends the call to the results file that the Go test checks."""
    with open(env("DIALTONE_RESULTS"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"suite": "python", "client": client, "action": action, "call_id": call_id,
                            "state": state, "receipt": receipt}) + "\n")


def finish(receipts, client, action, query, call_id, prod_id, want_state):
    """Waits for the call's final state through the client's own
    QueryCallDetailByCallId, then for its VoiceReport; both must say
    want_state. Records the call for the Go side."""
    detail = wait_final(query, call_id, prod_id)
    report = receipts.wait(call_id=call_id)
    record(client, action, call_id, detail["state"], report["status_code"])
    assert detail["state"] == want_state, detail
    assert report["status_code"] == want_state, report
    return detail, report
