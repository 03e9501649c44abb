package dialtone.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.aliyun.mns.client.CloudAccount;
import com.aliyun.mns.client.CloudQueue;
import com.aliyun.mns.client.MNSClient;
import com.aliyun.mns.model.Message;
import com.aliyuncs.CommonRequest;
import com.aliyuncs.CommonResponse;
import com.aliyuncs.DefaultAcsClient;
import com.aliyuncs.http.MethodType;
import com.aliyuncs.http.ProtocolType;
import com.aliyuncs.profile.DefaultProfile;
import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the calls account's VoiceReport queue as an application does:
 * QueryTokenForMnsQueue through aliyun-java-sdk-core (its CommonRequest:
 * aliyun-java-sdk-dybaseapi, the request class of the seed's other
 * languages, is not on Maven Central), then the MNS Java SDK with the
 * temporary credential. Every message read is deleted; the bodies are kept
 * by call_id and out_id. One reader per JVM.
 */
public final class Receipts {
    private static Receipts shared;

    public static synchronized Receipts shared() {
        if (shared == null) {
            shared = new Receipts();
        }
        return shared;
    }

    private final String queueName = "Alicom-Queue-" + Env.uid() + "-VoiceReport";
    private final Map<String, Map<String, Object>> byCall = new HashMap<>();
    private final Map<String, Map<String, Object>> byOut = new HashMap<>();
    private final Gson gson = new Gson();
    private MNSClient mns;
    private CloudQueue queue;

    /** The token of QueryTokenForMnsQueue (MessageTokenDTO). */
    public static Map<String, Object> token(String messageType, String queueName) throws Exception {
        DefaultProfile profile = DefaultProfile.getProfile("cn-hangzhou", Env.ak(), Env.secret());
        DefaultAcsClient client = new DefaultAcsClient(profile);
        CommonRequest request = new CommonRequest();
        request.setSysMethod(MethodType.POST);
        request.setSysProtocol(ProtocolType.HTTP);
        request.setSysDomain(Env.calls());
        request.setSysVersion("2017-05-25");
        request.setSysAction("QueryTokenForMnsQueue");
        request.putQueryParameter("MessageType", messageType);
        request.putQueryParameter("QueueName", queueName);
        CommonResponse response = client.getCommonResponse(request);
        assertEquals(200, response.getHttpStatus(), response.getData());
        Map<String, Object> body = new Gson().fromJson(response.getData(), new TypeToken<Map<String, Object>>() {}.getType());
        assertEquals("OK", body.get("Code"), response.getData());
        @SuppressWarnings("unchecked")
        Map<String, Object> tok = (Map<String, Object>) body.get("MessageTokenDTO");
        return tok;
    }

    /** An MNS client for the token, on the calls server. */
    public static MNSClient mnsClient(Map<String, Object> tok) {
        CloudAccount account = new CloudAccount((String) tok.get("AccessKeyId"), (String) tok.get("AccessKeySecret"),
                "http://" + Env.calls(), (String) tok.get("SecurityToken"));
        return account.getMNSClient();
    }

    private void poll() throws Exception {
        if (queue == null) {
            mns = mnsClient(token("VoiceReport", queueName));
            queue = mns.getQueueRef(queueName);
        }
        List<Message> msgs = queue.batchPopMessage(10, 1);
        if (msgs == null || msgs.isEmpty()) {
            return;
        }
        List<String> handles = new ArrayList<>();
        for (Message m : msgs) {
            Map<String, Object> body = gson.fromJson(m.getMessageBody(), new TypeToken<Map<String, Object>>() {}.getType());
            byCall.put(String.valueOf(body.get("call_id")), body);
            Object out = body.get("out_id");
            if (out != null && !out.toString().isEmpty()) {
                byOut.put(out.toString(), body);
            }
            handles.add(m.getReceiptHandle());
        }
        queue.batchDeleteMessage(handles);
    }

    private Map<String, Object> waitFor(Map<String, Map<String, Object>> index, String key) throws Exception {
        long deadline = System.currentTimeMillis() + Env.DEADLINE_MS;
        while (System.currentTimeMillis() < deadline) {
            Map<String, Object> got = index.get(key);
            if (got != null) {
                return got;
            }
            poll();
        }
        throw new AssertionError("no VoiceReport for " + key + " within " + Env.DEADLINE_MS + " ms");
    }

    public synchronized Map<String, Object> waitForCall(String callId) throws Exception {
        return waitFor(byCall, callId);
    }

    public synchronized Map<String, Object> waitForOutId(String outId) throws Exception {
        return waitFor(byOut, outId);
    }
}
