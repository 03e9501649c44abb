package dialtone.compat;

import static dialtone.compat.Env.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.aliyun.mns.client.CloudQueue;
import com.aliyun.mns.client.MNSClient;
import com.aliyun.mns.model.Message;
import com.aliyuncs.IAcsClient;
import com.aliyuncs.dyvmsapi.model.v20170525.SingleCallByTtsRequest;
import com.aliyuncs.dyvmsapi.model.v20170525.SingleCallByTtsResponse;
import com.google.gson.Gson;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Receipts in Java: QueryTokenForMnsQueue (aliyun-java-sdk-core; the
 * aliyun-java-sdk-dybaseapi request class is not on Maven Central), then the
 * MNS Java SDK (com.aliyun.mns:aliyun-sdk-mns) receives the VoiceReport of a
 * call placed here and deletes it; past the queue's visibility timeout
 * (2 s, set by the Go test) it does not come back.
 */
class ReceiptsTest {

    @Test
    void receiveThenDeleteTheVoiceReport() throws Exception {
        IAcsClient client = ClassicClientTest.client(ak(), secret());
        SingleCallByTtsRequest request = new SingleCallByTtsRequest();
        request.setCalledShowNumber(SHOW_NUMBER);
        request.setCalledNumber(SUB_LISTENS);
        request.setTtsCode(TPL_NOTIFY);
        request.setTtsParam("{\"name\":\"MNS\",\"order\":\"J-3\"}");
        request.setOutId("java-mns");
        SingleCallByTtsResponse placed = ClassicClientTest.send(client, request, calls());
        assertEquals("OK", placed.getCode(), placed.getMessage());
        String callId = placed.getCallId();

        String queueName = "Alicom-Queue-" + uid() + "-VoiceReport";
        Map<String, Object> token = Receipts.token("VoiceReport", queueName);
        assertTrue(String.valueOf(token.get("AccessKeyId")).startsWith("STS."), token.toString());
        assertTrue(String.valueOf(token.get("ExpireTime")).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d"), token.toString());
        MNSClient mns = Receipts.mnsClient(token);
        try {
            CloudQueue queue = mns.getQueueRef(queueName);
            Map<String, Object> report = null;
            long deadline = System.currentTimeMillis() + DEADLINE_MS;
            while (report == null && System.currentTimeMillis() < deadline) {
                List<Message> msgs = queue.batchPopMessage(10, 3);
                if (msgs == null) {
                    continue;
                }
                for (Message m : msgs) {
                    Map<String, Object> body = Calls.parseObject(m.getMessageBody());
                    // Every message read here is deleted, one by one.
                    queue.deleteMessage(m.getReceiptHandle());
                    if (callId.equals(body.get("call_id"))) {
                        report = body;
                        assertEquals(8, m.getPriority(), "priority of a receipt");
                        assertNotNull(m.getMessageId());
                    }
                }
            }
            assertNotNull(report, "no VoiceReport for " + callId);
            assertEquals("200000", report.get("status_code"), report.toString());
            assertEquals("java-mns", report.get("out_id"), report.toString());
            Calls.record("java aliyun-sdk-mns 1.4.0 + QueryTokenForMnsQueue", "VoiceReport", callId, "200000", String.valueOf(report.get("status_code")));

            // Deleted: past the visibility timeout it is not received again.
            Thread.sleep(2500);
            long until = System.currentTimeMillis() + 3000;
            while (System.currentTimeMillis() < until) {
                List<Message> again = queue.batchPopMessage(10, 1);
                if (again == null) {
                    continue;
                }
                for (Message m : again) {
                    Map<String, Object> body = Calls.parseObject(m.getMessageBody());
                    queue.deleteMessage(m.getReceiptHandle());
                    assertNotEquals(callId, body.get("call_id"), "the deleted VoiceReport came back: " + new Gson().toJson(body));
                }
            }
        } finally {
            mns.close();
        }
    }
}
