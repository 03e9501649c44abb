"""alibabacloud_dyvmsapi20170525 5.3.0 (darabonba, V3 signature), the
newest on PyPI: the seed's samples for this generation (Config of
alibabacloud_tea_openapi, endpoint instead of region). CancelCall is there,
ClickToDial no longer is. Runs in the venv of requirements.txt."""

import pytest

from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_dyvmsapi20170525.client import Client as Dyvmsapi20170525Client
from alibabacloud_dyvmsapi20170525 import models as dyvmsapi_20170525_models
from Tea.exceptions import TeaException

from conftest import (E, env, error_case_params, finish, query_date, UNKNOWN_CALL_ID, SHOW_NUMBER, SHOW_NUMBER_2,
                      VOICE_CODE, SUB_LISTENS, SUB_PRESSES_2, SUB_NEVER_KEYS, SUB_TALKS, CTD_CALLER_LONG, CTD_CALLEE, TPL_NOTIFY,
                      TPL_IVR_MENU, TPL_SALES, TPL_SUPPORT, PROD_VOICE_NOTIFY, PROD_IVR, PROD_CLICK_TO_DIAL,
                      PROD_SMART_CALL)

CLIENT = "python alibabacloud_dyvmsapi20170525 5.3.0"


def create_client(access_key_id, access_key_secret, endpoint):
    config = open_api_models.Config(
        access_key_id=access_key_id,
        access_key_secret=access_key_secret
    )
    # Dialtone instead of dyvmsapi.aliyuncs.com
    config.endpoint = endpoint
    config.protocol = "http"
    return Dyvmsapi20170525Client(config)


@pytest.fixture
def client():
    return create_client(E.ak, E.secret, E.calls)


def query(client):
    def q(call_id, prod_id):
        request = dyvmsapi_20170525_models.QueryCallDetailByCallIdRequest(
            call_id=call_id,
            prod_id=prod_id,
            query_date=query_date()
        )
        response = client.query_call_detail_by_call_id(request)
        assert response.status_code == 200 and response.body.code == "OK", response.body.to_map()
        return response.body.data
    return q


def placed(response):
    assert response.status_code == 200, response.to_map()
    assert response.body.code == "OK" and response.body.call_id, response.body.to_map()
    return response.body.call_id


def test_single_call_by_voice(client, receipts):
    request = dyvmsapi_20170525_models.SingleCallByVoiceRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_LISTENS,
        voice_code=VOICE_CODE
    )
    call_id = placed(client.single_call_by_voice(request))
    finish(receipts, CLIENT, "SingleCallByVoice", query(client), call_id, PROD_VOICE_NOTIFY, "200000")


def test_single_call_by_tts(client, receipts):
    request = dyvmsapi_20170525_models.SingleCallByTtsRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_LISTENS,
        tts_code=TPL_NOTIFY,
        tts_param='{"name":"Python","order":"P-3"}',
        out_id="py-newest"
    )
    call_id = placed(client.single_call_by_tts(request))
    _, report = finish(receipts, CLIENT, "SingleCallByTts", query(client), call_id, PROD_VOICE_NOTIFY, "200000")
    assert report["out_id"] == "py-newest", report


def test_ivr_call(client, receipts):
    request = dyvmsapi_20170525_models.IvrCallRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_PRESSES_2,
        start_code=TPL_IVR_MENU,
        menu_key_map=[
            dyvmsapi_20170525_models.IvrCallRequestMenuKeyMap(key="1", code=TPL_SALES),
            dyvmsapi_20170525_models.IvrCallRequestMenuKeyMap(key="2", code=TPL_SUPPORT),
        ],
        timeout=3000
    )
    call_id = placed(client.ivr_call(request))
    finish(receipts, CLIENT, "IvrCall", query(client), call_id, PROD_IVR, "200000")


def test_ivr_call_as_the_seed(client, receipts):
    # The seed's IvrCall sample (section 4.2) with this version's request
    # model: no menu, the seed's start_code and start_tts_params (single
    # quotes, keys unquoted); the seed's first called_number is the display
    # number, called_show_number.
    request = dyvmsapi_20170525_models.IvrCallRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_NEVER_KEYS,
        start_code="TTS_713900000",
        start_tts_params="{product:'aliyun',code:'123'}"
    )
    call_id = placed(client.ivr_call(request))
    finish(receipts, CLIENT, "IvrCallSeed", query(client), call_id, PROD_IVR, "200000")


def test_cancel_call(client, receipts):
    # ClickToDial is not in this version: the call to cancel is placed with
    # the classic request through the generic RPC entry (call_api).
    from alibabacloud_tea_openapi import utils_models as open_api_util_models
    from darabonba.runtime import RuntimeOptions
    params = open_api_util_models.Params(action="ClickToDial", version="2017-05-25", protocol="HTTP",
                                         pathname="/", method="POST", auth_type="AK", style="RPC",
                                         req_body_type="formData", body_type="json")
    dial = client.call_api(params, open_api_util_models.OpenApiRequest(query={
        "CallerShowNumber": SHOW_NUMBER, "CallerNumber": CTD_CALLER_LONG,
        "CalledShowNumber": SHOW_NUMBER_2, "CalledNumber": CTD_CALLEE}), RuntimeOptions())
    assert dial["statusCode"] == 200 and dial["body"]["Code"] == "OK", dial
    call_id = dial["body"]["CallId"]
    request = dyvmsapi_20170525_models.CancelCallRequest(
        call_id=call_id
    )
    response = client.cancel_call(request)
    assert response.body.code == "OK" and response.body.status is True, response.body.to_map()
    finish(receipts, CLIENT, "CancelCall", query(client), call_id, PROD_CLICK_TO_DIAL, "200003")


def test_smart_call(client, receipts):
    request = dyvmsapi_20170525_models.SmartCallRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_TALKS,
        voice_code=VOICE_CODE,
        pause_time=800,
        mute_time=10000,
        action_code_break=False
    )
    call_id = placed(client.smart_call(request))
    finish(receipts, CLIENT, "SmartCall", query(client), call_id, PROD_SMART_CALL, "200000")


@pytest.mark.parametrize("case", error_case_params())
def test_errors(case):
    name, proxy, ak, secret, code, status = case
    c = create_client(env(ak), env(secret), env(proxy))
    with pytest.raises(TeaException) as info:
        query(c)(UNKNOWN_CALL_ID, PROD_VOICE_NOTIFY)
    e = info.value
    assert e.code == code, e.__dict__
    assert e.status_code == status, e.__dict__
    assert e.request_id, e.__dict__
    if name == "wrongSecret":
        assert "server string to sign is:" in e.message


def test_action_not_allowed():
    c = create_client(env("DIALTONE_MNSONLY_AK"), env("DIALTONE_MNSONLY_SECRET"), env("DIALTONE_PASS_PROXY"))
    response = c.query_call_detail_by_call_id(dyvmsapi_20170525_models.QueryCallDetailByCallIdRequest(
        call_id=UNKNOWN_CALL_ID, prod_id=PROD_VOICE_NOTIFY, query_date=query_date()))
    assert response.status_code == 200, response.to_map()
    assert response.body.code == "isp.RAM_PERMISSION_DENY" and response.body.request_id, response.body.to_map()
