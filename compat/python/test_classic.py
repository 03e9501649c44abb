"""aliyun-python-sdk-dyvmsapi (the classic RPC request classes) with
aliyun-python-sdk-core's AcsClient: every action, the endpoint given per
request with set_endpoint. Runs in the venv of requirements-rpc.txt."""

import json

import pytest

from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkdyvmsapi.request.v20170525.SingleCallByVoiceRequest import SingleCallByVoiceRequest
from aliyunsdkdyvmsapi.request.v20170525.SingleCallByTtsRequest import SingleCallByTtsRequest
from aliyunsdkdyvmsapi.request.v20170525.IvrCallRequest import IvrCallRequest
from aliyunsdkdyvmsapi.request.v20170525.ClickToDialRequest import ClickToDialRequest
from aliyunsdkdyvmsapi.request.v20170525.CancelCallRequest import CancelCallRequest
from aliyunsdkdyvmsapi.request.v20170525.SmartCallRequest import SmartCallRequest
from aliyunsdkdyvmsapi.request.v20170525.QueryCallDetailByCallIdRequest import QueryCallDetailByCallIdRequest

from conftest import (E, env, error_case_params, finish, query_date, UNKNOWN_CALL_ID, SHOW_NUMBER, SHOW_NUMBER_2,
                      VOICE_CODE, SUB_LISTENS, SUB_PRESSES_2, SUB_NEVER_KEYS, SUB_TALKS, CTD_CALLER, CTD_CALLEE, CTD_CALLER_LONG,
                      TPL_NOTIFY, TPL_IVR_MENU, TPL_SALES, TPL_SUPPORT, PROD_VOICE_NOTIFY, PROD_IVR,
                      PROD_CLICK_TO_DIAL, PROD_SMART_CALL)

CLIENT = "python aliyun-python-sdk-dyvmsapi 3.2.0"


class Client:
    def __init__(self, ak, secret, endpoint):
        self.acs = AcsClient(ak, secret, "cn-hangzhou")
        self.endpoint = endpoint

    def do(self, request):
        request.set_endpoint(self.endpoint)
        return json.loads(self.acs.do_action_with_exception(request))

    def query(self, call_id, prod_id):
        request = QueryCallDetailByCallIdRequest()
        request.set_CallId(call_id)
        request.set_ProdId(prod_id)
        request.set_QueryDate(query_date())
        body = self.do(request)
        assert body["Code"] == "OK", body
        return body.get("Data")


@pytest.fixture
def client():
    return Client(E.ak, E.secret, E.calls)


def placed(body):
    assert body["Code"] == "OK" and body["CallId"], body
    return body["CallId"]


def test_single_call_by_voice(client, receipts):
    request = SingleCallByVoiceRequest()
    request.set_CalledShowNumber(SHOW_NUMBER)
    request.set_CalledNumber(SUB_LISTENS)
    request.set_VoiceCode(VOICE_CODE)
    request.set_PlayTimes(2)
    call_id = placed(client.do(request))
    finish(receipts, CLIENT, "SingleCallByVoice", client.query, call_id, PROD_VOICE_NOTIFY, "200000")


def test_single_call_by_tts(client, receipts):
    request = SingleCallByTtsRequest()
    request.set_CalledShowNumber(SHOW_NUMBER)
    request.set_CalledNumber(SUB_LISTENS)
    request.set_TtsCode(TPL_NOTIFY)
    request.set_TtsParam(json.dumps({"name": "李雷", "order": "P-2"}, ensure_ascii=False))
    request.set_OutId("py-classic")
    call_id = placed(client.do(request))
    _, report = finish(receipts, CLIENT, "SingleCallByTts", client.query, call_id, PROD_VOICE_NOTIFY, "200000")
    assert report["out_id"] == "py-classic", report


def test_ivr_call(client, receipts):
    request = IvrCallRequest()
    request.set_CalledShowNumber(SHOW_NUMBER)
    request.set_CalledNumber(SUB_PRESSES_2)
    request.set_StartCode(TPL_IVR_MENU)
    request.set_MenuKeyMaps([{"Key": "1", "Code": TPL_SALES}, {"Key": "2", "Code": TPL_SUPPORT}])
    request.set_Timeout(3000)
    call_id = placed(client.do(request))
    finish(receipts, CLIENT, "IvrCall", client.query, call_id, PROD_IVR, "200000")


def test_ivr_call_as_the_seed(client, receipts):
    # The seed's IvrCall sample (section 4.2) with this SDK's request class:
    # no menu, the seed's StartCode and StartTtsParams (single quotes, keys
    # unquoted); the seed's first CalledNumber is the display number.
    request = IvrCallRequest()
    request.set_CalledShowNumber(SHOW_NUMBER)
    request.set_CalledNumber(SUB_NEVER_KEYS)
    request.set_StartCode("TTS_713900000")
    request.set_StartTtsParams("{product:'aliyun',code:'123'}")
    call_id = placed(client.do(request))
    finish(receipts, CLIENT, "IvrCallSeed", client.query, call_id, PROD_IVR, "200000")


def test_click_to_dial(client, receipts):
    request = ClickToDialRequest()
    request.set_CallerShowNumber(SHOW_NUMBER)
    request.set_CallerNumber(CTD_CALLER)
    request.set_CalledShowNumber(SHOW_NUMBER_2)
    request.set_CalledNumber(CTD_CALLEE)
    call_id = placed(client.do(request))
    detail, _ = finish(receipts, CLIENT, "ClickToDial", client.query, call_id, PROD_CLICK_TO_DIAL, "200000")
    assert detail["aRingTime"] and detail["bRingTime"], detail


def test_cancel_call(client, receipts):
    dial = ClickToDialRequest()
    dial.set_CallerShowNumber(SHOW_NUMBER)
    dial.set_CallerNumber(CTD_CALLER_LONG)
    dial.set_CalledShowNumber(SHOW_NUMBER_2)
    dial.set_CalledNumber(CTD_CALLEE)
    call_id = placed(client.do(dial))
    request = CancelCallRequest()
    request.set_CallId(call_id)
    body = client.do(request)
    assert body["Code"] == "OK" and body["Status"] is True, body
    finish(receipts, CLIENT, "CancelCall", client.query, call_id, PROD_CLICK_TO_DIAL, "200003")


def test_smart_call(client, receipts):
    request = SmartCallRequest()
    request.set_CalledShowNumber(SHOW_NUMBER)
    request.set_CalledNumber(SUB_TALKS)
    request.set_VoiceCode(VOICE_CODE)
    request.set_PauseTime(800)
    request.set_MuteTime(10000)
    request.set_ActionCodeBreak(False)
    call_id = placed(client.do(request))
    finish(receipts, CLIENT, "SmartCall", client.query, call_id, PROD_SMART_CALL, "200000")


@pytest.mark.parametrize("case", error_case_params())
def test_errors(case):
    name, proxy, ak, secret, code, status = case
    c = Client(env(ak), env(secret), env(proxy))
    with pytest.raises(ServerException) as info:
        c.query(UNKNOWN_CALL_ID, PROD_VOICE_NOTIFY)
    e = info.value
    if name == "wrongSecret":
        # aliyun-python-sdk-core compares the server's string to sign with
        # its own and, when they match, reports a wrong secret: it does so
        # against Alibaba as well.
        code = "InvalidAccessKeySecret"
    assert e.get_error_code() == code, str(e)
    assert e.get_http_status() == status, str(e)
    assert e.get_request_id(), str(e)


def test_action_not_allowed():
    c = Client(env("DIALTONE_MNSONLY_AK"), env("DIALTONE_MNSONLY_SECRET"), env("DIALTONE_PASS_PROXY"))
    request = QueryCallDetailByCallIdRequest()
    request.set_CallId(UNKNOWN_CALL_ID)
    request.set_ProdId(PROD_VOICE_NOTIFY)
    request.set_QueryDate(query_date())
    body = c.do(request)
    assert body["Code"] == "isp.RAM_PERMISSION_DENY" and body["RequestId"], body
