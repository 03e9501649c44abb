package dialtone.compat;

import static dialtone.compat.Env.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.aliyun.tea.TeaConverter;
import com.aliyun.tea.TeaPair;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ClickToDial and CancelCall: in 1.0.2, gone from 2.x on (seed 4.3, 4.4). */
class ClickToDialTest {

    @Test
    void clickToDial() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = TeaClientTest.client();
        com.aliyun.dyvmsapi20170525.models.ClickToDialRequest request = com.aliyun.dyvmsapi20170525.models.ClickToDialRequest.build(TeaConverter.buildMap(
            new TeaPair("callerShowNumber", SHOW_NUMBER),
            new TeaPair("callerNumber", CTD_CALLER),
            new TeaPair("calledShowNumber", SHOW_NUMBER_2),
            new TeaPair("calledNumber", CTD_CALLEE)
        ));
        com.aliyun.dyvmsapi20170525.models.ClickToDialResponse response = client.clickToDial(request);
        assertEquals("OK", response.body.code, response.body.message);
        Map<String, String> d = Calls.finish("ClickToDial", TeaClientTest.query(client), response.body.callId, PROD_CLICK_TO_DIAL, "200000");
        assertFalse(d.getOrDefault("aRingTime", "").isEmpty(), d.toString());
        assertFalse(d.getOrDefault("bRingTime", "").isEmpty(), d.toString());
    }

    @Test
    void cancelCall() throws Exception {
        com.aliyun.dyvmsapi20170525.Client client = TeaClientTest.client();
        com.aliyun.dyvmsapi20170525.models.ClickToDialResponse dial = client.clickToDial(com.aliyun.dyvmsapi20170525.models.ClickToDialRequest.build(TeaConverter.buildMap(
            new TeaPair("callerShowNumber", SHOW_NUMBER),
            new TeaPair("callerNumber", CTD_CALLER_LONG),
            new TeaPair("calledShowNumber", SHOW_NUMBER_2),
            new TeaPair("calledNumber", CTD_CALLEE)
        )));
        assertEquals("OK", dial.body.code, dial.body.message);
        com.aliyun.dyvmsapi20170525.models.CancelCallRequest request = com.aliyun.dyvmsapi20170525.models.CancelCallRequest.build(TeaConverter.buildMap(
            // 通话的唯一回执ID。
            new TeaPair("callId", dial.body.callId)
        ));
        // 发起请求
        com.aliyun.dyvmsapi20170525.models.CancelCallResponse response = client.cancelCall(request);
        assertEquals("OK", response.body.code, response.body.message);
        assertTrue(response.body.status);
        Calls.finish("CancelCall", TeaClientTest.query(client), dial.body.callId, PROD_CLICK_TO_DIAL, "200003");
        assertFalse(client.cancelCall(request).body.status, "a second CancelCall on the ended call");
    }
}
