"""alibabacloud_dyvmsapi20170525 1.0.2 on alibabacloud_tea_rpc: the
generation of the seed's Python samples (section 4), each action written as
the sample writes it, with the endpoint, credentials and numbers changed.
Runs in the venv of requirements-rpc.txt."""

import pytest

from alibabacloud_dyvmsapi20170525.client import Client as DyvmsapiClientClient
from alibabacloud_tea_rpc import models as _rpc_models
from alibabacloud_dyvmsapi20170525 import models as dyvmsapi_client_models
from Tea.exceptions import TeaException

from conftest import (E, env, error_case_params, finish, query_date, UNKNOWN_CALL_ID, SHOW_NUMBER, SHOW_NUMBER_2,
                      VOICE_CODE, SUB_LISTENS, SUB_PRESSES_2, SUB_NEVER_KEYS, SUB_TALKS, CTD_CALLER, CTD_CALLEE, CTD_CALLER_LONG,
                      TPL_NOTIFY, TPL_IVR_MENU, TPL_SALES, TPL_SUPPORT, PROD_VOICE_NOTIFY, PROD_IVR, PROD_CLICK_TO_DIAL, PROD_SMART_CALL)

CLIENT = "python alibabacloud_dyvmsapi20170525 1.0.2 (tea-rpc)"


def create_client(access_key_id, access_key_secret, region_id, endpoint):
    config = _rpc_models.Config(
    )
    # 您的AccessKey ID
    config.access_key_id = access_key_id
    # 您的AccessKey Secret
    config.access_key_secret = access_key_secret
    # 您的可用区ID
    config.region_id = region_id
    # Dialtone instead of the public endpoint
    config.endpoint = endpoint
    config.protocol = "http"
    return DyvmsapiClientClient(config)


@pytest.fixture
def client():
    return create_client(E.ak, E.secret, "cn-hangzhou", E.calls)


def query(client):
    def q(call_id, prod_id):
        request = dyvmsapi_client_models.QueryCallDetailByCallIdRequest(
            call_id=call_id,
            prod_id=prod_id,
            query_date=query_date()
        )
        response = client.query_call_detail_by_call_id(request)
        assert response.code == "OK", response.to_map()
        return response.data
    return q


def test_single_call_by_voice(client, receipts):
    request = dyvmsapi_client_models.SingleCallByVoiceRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_LISTENS,
        voice_code=VOICE_CODE
    )
    response = client.single_call_by_voice(request)
    assert response.code == "OK" and response.call_id, response.to_map()
    finish(receipts, CLIENT, "SingleCallByVoice", query(client), response.call_id, PROD_VOICE_NOTIFY, "200000")


def test_single_call_by_tts(client, receipts):
    request = dyvmsapi_client_models.SingleCallByTtsRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_LISTENS,
        tts_code=TPL_NOTIFY,
        tts_param='{"name":"Python","order":"P-1"}'
    )
    response = client.single_call_by_tts(request)
    assert response.code == "OK" and response.call_id, response.to_map()
    finish(receipts, CLIENT, "SingleCallByTts", query(client), response.call_id, PROD_VOICE_NOTIFY, "200000")


def test_ivr_call(client, receipts):
    # IvrCall with a two-key menu: the subscriber presses 2 (the seed's
    # sample, without a menu, is test_ivr_call_as_the_seed below).
    request = dyvmsapi_client_models.IvrCallRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_PRESSES_2,
        start_code=TPL_IVR_MENU,
        start_tts_params='{"product":"aliyun","code":"123"}'
    )
    # This version's IvrCallRequest drops a menu_key_map given to its
    # constructor (it sets []): it is assigned afterwards. Its model also
    # requires tts_params in every item.
    request.menu_key_map = [
        dyvmsapi_client_models.IvrCallRequestMenuKeyMap(key="1", code=TPL_SALES, tts_params="{}"),
        dyvmsapi_client_models.IvrCallRequestMenuKeyMap(key="2", code=TPL_SUPPORT, tts_params="{}"),
    ]
    response = client.ivr_call(request)
    assert response.code == "OK" and response.call_id, response.to_map()
    finish(receipts, CLIENT, "IvrCall", query(client), response.call_id, PROD_IVR, "200000")


def test_ivr_call_as_the_seed(client, receipts):
    # The seed's IvrCall sample (section 4.2) as written, but for the
    # endpoint, credentials and numbers: no menu, the seed's start_code and
    # start_tts_params (single quotes, keys unquoted). The seed passes
    # called_number twice (a SyntaxError in Python); the first is the display
    # number, called_show_number. The call plays the start prompt once and
    # ends.
    request = dyvmsapi_client_models.IvrCallRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_NEVER_KEYS,
        start_code="TTS_713900000",
        start_tts_params="{product:'aliyun',code:'123'}"
    )
    response = client.ivr_call(request)
    assert response.code == "OK" and response.call_id, response.to_map()
    finish(receipts, CLIENT, "IvrCallSeed", query(client), response.call_id, PROD_IVR, "200000")


def test_click_to_dial(client, receipts):
    request = dyvmsapi_client_models.ClickToDialRequest(
        caller_show_number=SHOW_NUMBER,
        caller_number=CTD_CALLER,
        called_show_number=SHOW_NUMBER_2,
        called_number=CTD_CALLEE
    )
    response = client.click_to_dial(request)
    assert response.code == "OK" and response.call_id, response.to_map()
    detail, _ = finish(receipts, CLIENT, "ClickToDial", query(client), response.call_id, PROD_CLICK_TO_DIAL, "200000")
    assert detail["aRingTime"] and detail["bRingTime"], detail


def test_cancel_call(client, receipts):
    dial = client.click_to_dial(dyvmsapi_client_models.ClickToDialRequest(
        caller_show_number=SHOW_NUMBER,
        caller_number=CTD_CALLER_LONG,
        called_show_number=SHOW_NUMBER_2,
        called_number=CTD_CALLEE
    ))
    assert dial.code == "OK", dial.to_map()
    request = dyvmsapi_client_models.CancelCallRequest(
        call_id=dial.call_id
    )
    # 发起请求
    response = client.cancel_call(request)
    assert response.code == "OK" and response.status is True, response.to_map()
    finish(receipts, CLIENT, "CancelCall", query(client), dial.call_id, PROD_CLICK_TO_DIAL, "200003")
    again = client.cancel_call(dyvmsapi_client_models.CancelCallRequest(call_id=dial.call_id))
    assert again.code == "OK" and again.status is False, again.to_map()


def test_smart_call(client, receipts):
    request = dyvmsapi_client_models.SmartCallRequest(
        called_show_number=SHOW_NUMBER,
        called_number=SUB_TALKS,
        voice_code=VOICE_CODE,
        pause_time=800,
        mute_time=10000,
        action_code_break=False
    )
    response = client.smart_call(request)
    assert response.code == "OK" and response.call_id, response.to_map()
    finish(receipts, CLIENT, "SmartCall", query(client), response.call_id, PROD_SMART_CALL, "200000")


def test_query_call_detail_by_call_id_unknown(client):
    request = dyvmsapi_client_models.QueryCallDetailByCallIdRequest(
        call_id=UNKNOWN_CALL_ID,
        prod_id=PROD_VOICE_NOTIFY,
        query_date=query_date()
    )
    response = client.query_call_detail_by_call_id(request)
    assert response.code == "OK" and response.request_id and response.data is None, response.to_map()


@pytest.mark.parametrize("case", error_case_params())
def test_errors(case):
    name, proxy, ak, secret, code, status = case
    c = create_client(env(ak), env(secret), "cn-hangzhou", env(proxy))
    with pytest.raises(TeaException) as info:
        query(c)(UNKNOWN_CALL_ID, PROD_VOICE_NOTIFY)
    e = info.value
    assert e.code == code, e.__dict__
    assert e.data["RequestId"], e.data
    if name == "wrongSecret":
        assert "server string to sign is:" in e.message


def test_action_not_allowed():
    # The real service answers HTTP 200 with this code; tea-rpc returns it
    # as a response.
    c = create_client(env("DIALTONE_MNSONLY_AK"), env("DIALTONE_MNSONLY_SECRET"), "cn-hangzhou", env("DIALTONE_PASS_PROXY"))
    response = c.query_call_detail_by_call_id(dyvmsapi_client_models.QueryCallDetailByCallIdRequest(
        call_id=UNKNOWN_CALL_ID, prod_id=PROD_VOICE_NOTIFY, query_date=query_date()))
    assert response.code == "isp.RAM_PERMISSION_DENY" and response.request_id, response.to_map()
