package dialtone.compat;

import static dialtone.compat.Env.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.aliyun.tea.TeaConverter;
import com.aliyun.tea.TeaException;
import com.aliyun.tea.TeaPair;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The actions every com.aliyun:dyvmsapi20170525 version has, written as the
 * seed's Java samples write them (request built with TeaConverter.buildMap
 * and TeaPair), with the endpoint, credentials and numbers changed; and the
 * error cases. Shared by the tea-* modules (each adds this directory as a
 * test source).
 */
class TeaClientTest {

    /** The seed's createClient, with Dialtone as the endpoint. */
    static com.aliyun.dyvmsapi20170525.Client createClient(String accessKeyId, String accessKeySecret, String endpoint) throws Exception {
        com.aliyun.teaopenapi.models.Config config = new com.aliyun.teaopenapi.models.Config();
        // 您的AccessKey ID
        config.accessKeyId = accessKeyId;
        // 您的AccessKey Secret
        config.accessKeySecret = accessKeySecret;
        // 您的可用区ID
        config.regionId = "cn-hangzhou";
        // Dialtone instead of the public endpoint
        config.endpoint = endpoint;
        config.protocol = "http";
        return new com.aliyun.dyvmsapi20170525.Client(config);
    }

    static com.aliyun.dyvmsapi20170525.Client client() throws Exception {
        return createClient(ak(), secret(), calls());
    }

    static Calls.Query query(com.aliyun.dyvmsapi20170525.Client client) {
        return (callId, prodId) -> {
            com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdRequest request = com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdRequest.build(TeaConverter.buildMap(
                new TeaPair("callId", callId),
                new TeaPair("prodId", prodId),
                new TeaPair("queryDate", Calls.queryDate())
            ));
            com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdResponse response = client.queryCallDetailByCallId(request);
            assertEquals("OK", response.body.code, response.body.message);
            return response.body.data;
        };
    }

    @Test
    void singleCallByVoice() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = client();
        com.aliyun.dyvmsapi20170525.models.SingleCallByVoiceRequest request = com.aliyun.dyvmsapi20170525.models.SingleCallByVoiceRequest.build(TeaConverter.buildMap(
            // 被叫显号
            new TeaPair("calledShowNumber", SHOW_NUMBER),
            // 被叫号码
            new TeaPair("calledNumber", SUB_LISTENS),
            // 语音文件的语音ID。
            new TeaPair("voiceCode", VOICE_CODE)
        ));
        com.aliyun.dyvmsapi20170525.models.SingleCallByVoiceResponse response = client.singleCallByVoice(request);
        assertEquals("OK", response.body.code, response.body.message);
        Calls.finish("SingleCallByVoice", query(client), response.body.callId, PROD_VOICE_NOTIFY, "200000");
    }

    @Test
    void singleCallByTts() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = client();
        com.aliyun.dyvmsapi20170525.models.SingleCallByTtsRequest request = com.aliyun.dyvmsapi20170525.models.SingleCallByTtsRequest.build(TeaConverter.buildMap(
            new TeaPair("calledShowNumber", SHOW_NUMBER),
            new TeaPair("calledNumber", SUB_LISTENS),
            new TeaPair("ttsCode", TPL_NOTIFY),
            new TeaPair("ttsParam", "{\"name\":\"Java\",\"order\":\"J-1\"}")
        ));
        com.aliyun.dyvmsapi20170525.models.SingleCallByTtsResponse response = client.singleCallByTts(request);
        assertEquals("OK", response.body.code, response.body.message);
        Calls.finish("SingleCallByTts", query(client), response.body.callId, PROD_VOICE_NOTIFY, "200000");
    }

    @Test
    void ivrCall() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = client();
        // IvrCall with a two-key menu: the subscriber presses 2 (the seed's
        // sample, without a menu, is ivrCallAsTheSeed below).
        com.aliyun.dyvmsapi20170525.models.IvrCallRequest request = com.aliyun.dyvmsapi20170525.models.IvrCallRequest.build(TeaConverter.buildMap(
            new TeaPair("calledShowNumber", SHOW_NUMBER),
            new TeaPair("calledNumber", SUB_PRESSES_2),
            // 呼叫开始时播放的提示音。
            new TeaPair("startCode", TPL_IVR_MENU),
            // 文本转语音模板内的变量参数，格式为JSON。
            new TeaPair("startTtsParams", "{\"product\":\"aliyun\",\"code\":\"123\"}")
        ));
        request.menuKeyMap = List.of(
            new com.aliyun.dyvmsapi20170525.models.IvrCallRequest.IvrCallRequestMenuKeyMap().setKey("1").setCode(TPL_SALES),
            new com.aliyun.dyvmsapi20170525.models.IvrCallRequest.IvrCallRequestMenuKeyMap().setKey("2").setCode(TPL_SUPPORT));
        com.aliyun.dyvmsapi20170525.models.IvrCallResponse response = client.ivrCall(request);
        assertEquals("OK", response.body.code, response.body.message);
        Calls.finish("IvrCall", query(client), response.body.callId, PROD_IVR, "200000");
    }

    /**
     * The seed's IvrCall sample (section 4.2) as written, but for the
     * endpoint, credentials and numbers: no menuKeyMap, the seed's startCode
     * and its startTtsParams (single quotes, keys unquoted). The seed sets
     * calledNumber twice, the first being the display number, which the API
     * takes as calledShowNumber (with two calledNumber pairs the map keeps the
     * second and the request lacks the display number). The call plays the
     * start prompt once and ends.
     */
    @Test
    void ivrCallAsTheSeed() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = client();
        com.aliyun.dyvmsapi20170525.models.IvrCallRequest request = com.aliyun.dyvmsapi20170525.models.IvrCallRequest.build(TeaConverter.buildMap(
            // 被叫显号 (the seed's first calledNumber)
            new TeaPair("calledShowNumber", SHOW_NUMBER),
            // 被叫号码。仅支持中国大陆号码。单次请求仅支持一个号码。
            new TeaPair("calledNumber", SUB_NEVER_KEYS),
            // 呼叫开始时播放的提示音。
            // 语音文件：语音ID。可以在文本转语音模板页面查看语音ID。
            // 文本转语音模板：模板ID。可以在文本转语音模板页面查看模板ID。
            new TeaPair("startCode", "TTS_713900000"),
            // 文本转语音模板内的变量参数，格式为JSON。
            // 当StartCode为文本转语音模板（TTS）、且模板中带变量的情况下此参数为必选。
            new TeaPair("startTtsParams", "{product:'aliyun',code:'123'}")
        ));
        com.aliyun.dyvmsapi20170525.models.IvrCallResponse response = client.ivrCall(request);
        assertEquals("OK", response.body.code, response.body.message);
        Calls.finish("IvrCallSeed", query(client), response.body.callId, PROD_IVR, "200000");
    }

    @Test
    void smartCall() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = client();
        com.aliyun.dyvmsapi20170525.models.SmartCallRequest request = com.aliyun.dyvmsapi20170525.models.SmartCallRequest.build(TeaConverter.buildMap(
            new TeaPair("calledShowNumber", SHOW_NUMBER),
            new TeaPair("calledNumber", SUB_TALKS),
            new TeaPair("voiceCode", VOICE_CODE),
            new TeaPair("pauseTime", 800),
            new TeaPair("muteTime", 10000),
            new TeaPair("actionCodeBreak", false)
        ));
        com.aliyun.dyvmsapi20170525.models.SmartCallResponse response = client.smartCall(request);
        assertEquals("OK", response.body.code, response.body.message);
        Calls.finish("SmartCall", query(client), response.body.callId, PROD_SMART_CALL, "200000");
    }

    @Test
    void queryCallDetailByCallIdUnknown() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = client();
        com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdRequest request = com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdRequest.build(TeaConverter.buildMap(
            new TeaPair("callId", UNKNOWN_CALL_ID),
            new TeaPair("prodId", PROD_VOICE_NOTIFY),
            new TeaPair("queryDate", Calls.queryDate())
        ));
        com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdResponse response = client.queryCallDetailByCallId(request);
        assertEquals("OK", response.body.code);
        assertNotNull(response.body.requestId);
        assertNull(response.body.data);
    }

    static final List<ErrorCase> errorCases = ErrorCase.ALL;

    @ParameterizedTest(name = "{0}")
    @FieldSource("errorCases")
    void errors(ErrorCase c) throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = createClient(c.ak(), c.secret(), c.endpoint());
        TeaException e = assertThrows(TeaException.class, () -> query(client).data(UNKNOWN_CALL_ID, PROD_VOICE_NOTIFY));
        assertEquals(c.code(), e.getCode(), e.getMessage());
        assertNotNull(e.getData(), e.getMessage());
        assertNotNull(e.getData().get("RequestId"), String.valueOf(e.getData()));
        Object status = e.getData().get("statusCode");
        if (status != null) {
            assertEquals(c.status(), ((Number) status).intValue(), String.valueOf(e.getData()));
        }
        if (c.name().equals("wrongSecret")) {
            assertTrue(e.getMessage().contains("server string to sign is:"), e.getMessage());
        }
    }

    @Test
    void actionNotAllowed() throws Exception {
        // HTTP 200 with the code, as the real service answers: a response.
        com.aliyun.dyvmsapi20170525.Client client = createClient(Env.get("DIALTONE_MNSONLY_AK"), Env.get("DIALTONE_MNSONLY_SECRET"), Env.get("DIALTONE_PASS_PROXY"));
        com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdResponse response = client.queryCallDetailByCallId(
            com.aliyun.dyvmsapi20170525.models.QueryCallDetailByCallIdRequest.build(TeaConverter.buildMap(
                new TeaPair("callId", UNKNOWN_CALL_ID),
                new TeaPair("prodId", PROD_VOICE_NOTIFY),
                new TeaPair("queryDate", Calls.queryDate()))));
        assertEquals("isp.RAM_PERMISSION_DENY", response.body.code);
        assertNotNull(response.body.requestId);
    }
}
