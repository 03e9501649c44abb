package dialtone.compat;

import static dialtone.compat.Env.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.aliyuncs.DefaultAcsClient;
import com.aliyuncs.IAcsClient;
import com.aliyuncs.dyvmsapi.model.v20170525.*;
import com.aliyuncs.exceptions.ClientException;
import com.aliyuncs.http.ProtocolType;
import com.aliyuncs.profile.DefaultProfile;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * com.aliyun:aliyun-java-sdk-dyvmsapi 3.0.2 with aliyun-java-sdk-core
 * 4.7.10: the request classes and DefaultAcsClient that most existing
 * applications use. The endpoint is set per request (setSysEndpoint) with
 * HTTP.
 */
class ClassicClientTest {
    static final String CLIENT = "java aliyun-java-sdk-dyvmsapi 3.0.2";

    static IAcsClient client(String ak, String secret) {
        DefaultProfile profile = DefaultProfile.getProfile("cn-hangzhou", ak, secret);
        return new DefaultAcsClient(profile);
    }

    static <T extends com.aliyuncs.AcsResponse> T send(IAcsClient client, com.aliyuncs.RpcAcsRequest<T> request, String endpoint) throws Exception {
        request.setSysEndpoint(endpoint);
        request.setSysProtocol(ProtocolType.HTTP);
        return client.getAcsResponse(request);
    }

    static Calls.Query query(IAcsClient client) {
        return (callId, prodId) -> {
            QueryCallDetailByCallIdRequest request = new QueryCallDetailByCallIdRequest();
            request.setCallId(callId);
            request.setProdId(prodId);
            request.setQueryDate(Calls.queryDate());
            QueryCallDetailByCallIdResponse response = send(client, request, calls());
            assertEquals("OK", response.getCode(), response.getMessage());
            return response.getData();
        };
    }

    static void finish(String action, IAcsClient client, String callId, long prodId, String want) throws Exception {
        Calls.finish(action, query(client), callId, prodId, want);
    }

    @Test
    void singleCallByVoice() throws Exception {
        IAcsClient client = client(ak(), secret());
        SingleCallByVoiceRequest request = new SingleCallByVoiceRequest();
        request.setCalledShowNumber(SHOW_NUMBER);
        request.setCalledNumber(SUB_LISTENS);
        request.setVoiceCode(VOICE_CODE);
        request.setPlayTimes(2);
        SingleCallByVoiceResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        finish("SingleCallByVoice", client, response.getCallId(), PROD_VOICE_NOTIFY, "200000");
    }

    @Test
    void singleCallByTts() throws Exception {
        IAcsClient client = client(ak(), secret());
        SingleCallByTtsRequest request = new SingleCallByTtsRequest();
        request.setCalledShowNumber(SHOW_NUMBER);
        request.setCalledNumber(SUB_LISTENS);
        request.setTtsCode(TPL_NOTIFY);
        request.setTtsParam("{\"name\":\"韩梅梅\",\"order\":\"J-2\"}");
        SingleCallByTtsResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        finish("SingleCallByTts", client, response.getCallId(), PROD_VOICE_NOTIFY, "200000");
    }

    @Test
    void ivrCall() throws Exception {
        IAcsClient client = client(ak(), secret());
        IvrCallRequest request = new IvrCallRequest();
        request.setCalledShowNumber(SHOW_NUMBER);
        request.setCalledNumber(SUB_PRESSES_2);
        request.setStartCode(TPL_IVR_MENU);
        IvrCallRequest.MenuKeyMap sales = new IvrCallRequest.MenuKeyMap();
        sales.setKey("1");
        sales.setCode(TPL_SALES);
        IvrCallRequest.MenuKeyMap support = new IvrCallRequest.MenuKeyMap();
        support.setKey("2");
        support.setCode(TPL_SUPPORT);
        request.setMenuKeyMaps(List.of(sales, support));
        request.setTimeout(3000);
        IvrCallResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        finish("IvrCall", client, response.getCallId(), PROD_IVR, "200000");
    }

    /**
     * The seed's IvrCall sample (section 4.2) with this SDK's request class:
     * no menu, the seed's StartCode and StartTtsParams (single quotes, keys
     * unquoted); the seed's first CalledNumber is the display number.
     */
    @Test
    void ivrCallAsTheSeed() throws Exception {
        IAcsClient client = client(ak(), secret());
        IvrCallRequest request = new IvrCallRequest();
        request.setCalledShowNumber(SHOW_NUMBER);
        request.setCalledNumber(SUB_NEVER_KEYS);
        request.setStartCode("TTS_713900000");
        request.setStartTtsParams("{product:'aliyun',code:'123'}");
        IvrCallResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        finish("IvrCallSeed", client, response.getCallId(), PROD_IVR, "200000");
    }

    @Test
    void clickToDial() throws Exception {
        IAcsClient client = client(ak(), secret());
        ClickToDialRequest request = new ClickToDialRequest();
        request.setCallerShowNumber(SHOW_NUMBER);
        request.setCallerNumber(CTD_CALLER);
        request.setCalledShowNumber(SHOW_NUMBER_2);
        request.setCalledNumber(CTD_CALLEE);
        ClickToDialResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        Map<String, String> d = Calls.finish("ClickToDial", query(client), response.getCallId(), PROD_CLICK_TO_DIAL, "200000");
        assertFalse(d.getOrDefault("aRingTime", "").isEmpty(), d.toString());
        assertFalse(d.getOrDefault("bRingTime", "").isEmpty(), d.toString());
    }

    @Test
    void cancelCall() throws Exception {
        IAcsClient client = client(ak(), secret());
        ClickToDialRequest dial = new ClickToDialRequest();
        dial.setCallerShowNumber(SHOW_NUMBER);
        dial.setCallerNumber(CTD_CALLER_LONG);
        dial.setCalledShowNumber(SHOW_NUMBER_2);
        dial.setCalledNumber(CTD_CALLEE);
        ClickToDialResponse placed = send(client, dial, calls());
        assertEquals("OK", placed.getCode(), placed.getMessage());
        CancelCallRequest request = new CancelCallRequest();
        request.setCallId(placed.getCallId());
        CancelCallResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        assertTrue(response.getStatus());
        finish("CancelCall", client, placed.getCallId(), PROD_CLICK_TO_DIAL, "200003");
    }

    @Test
    void smartCall() throws Exception {
        IAcsClient client = client(ak(), secret());
        SmartCallRequest request = new SmartCallRequest();
        request.setCalledShowNumber(SHOW_NUMBER);
        request.setCalledNumber(SUB_TALKS);
        request.setVoiceCode(VOICE_CODE);
        request.setPauseTime(800);
        request.setMuteTime(10000);
        request.setActionCodeBreak(false);
        SmartCallResponse response = send(client, request, calls());
        assertEquals("OK", response.getCode(), response.getMessage());
        finish("SmartCall", client, response.getCallId(), PROD_SMART_CALL, "200000");
    }

    static final List<ErrorCase> errorCases = ErrorCase.ALL;

    @ParameterizedTest(name = "{0}")
    @FieldSource("errorCases")
    void errors(ErrorCase c) {
        IAcsClient client = client(c.ak(), c.secret());
        QueryCallDetailByCallIdRequest request = new QueryCallDetailByCallIdRequest();
        request.setCallId(UNKNOWN_CALL_ID);
        request.setProdId(PROD_VOICE_NOTIFY);
        request.setQueryDate(Calls.queryDate());
        // A 4xx answer is a ClientException (ServerException is for 5xx).
        ClientException e = assertThrows(ClientException.class, () -> send(client, request, c.endpoint()));
        assertEquals(ClientException.class, e.getClass(), e.getMessage());
        String want = c.code();
        if (c.name().equals("wrongSecret")) {
            // aliyun-java-sdk-core compares the server's string to sign with
            // its own and, when they match, reports a wrong secret: it does
            // so against Alibaba as well.
            want = "SDK.InvalidAccessKeySecret";
        }
        assertEquals(want, e.getErrCode(), e.getMessage());
        assertNotNull(e.getRequestId(), e.getMessage());
    }

    @Test
    void actionNotAllowed() throws Exception {
        IAcsClient client = client(Env.get("DIALTONE_MNSONLY_AK"), Env.get("DIALTONE_MNSONLY_SECRET"));
        QueryCallDetailByCallIdRequest request = new QueryCallDetailByCallIdRequest();
        request.setCallId(UNKNOWN_CALL_ID);
        request.setProdId(PROD_VOICE_NOTIFY);
        request.setQueryDate(Calls.queryDate());
        QueryCallDetailByCallIdResponse response = send(client, request, Env.get("DIALTONE_PASS_PROXY"));
        assertEquals("isp.RAM_PERMISSION_DENY", response.getCode(), response.getMessage());
        assertNotNull(response.getRequestId());
    }
}
