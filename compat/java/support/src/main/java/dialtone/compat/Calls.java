package dialtone.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Following a call to its end: final state, VoiceReport, results file. */
public final class Calls {
    private Calls() {}

    /** QueryCallDetailByCallId through the client under test: its Data or null. */
    @FunctionalInterface
    public interface Query {
        String data(String callId, long prodId) throws Exception;
    }

    private static final Set<String> LIVE = Set.of("200101", "200102", "200103", "200201");
    private static final Gson GSON = new Gson();

    public static Map<String, String> parse(String json) {
        return GSON.fromJson(json, new TypeToken<Map<String, String>>() {}.getType());
    }

    public static Map<String, Object> parseObject(String json) {
        return GSON.fromJson(json, new TypeToken<Map<String, Object>>() {}.getType());
    }

    /** Polls until the call has a final state; returns the parsed Data. */
    public static Map<String, String> waitFinal(Query q, String callId, long prodId) throws Exception {
        long deadline = System.currentTimeMillis() + Env.DEADLINE_MS;
        String last = null;
        while (System.currentTimeMillis() < deadline) {
            String data = q.data(callId, prodId);
            if (data != null && !data.isEmpty()) {
                last = data;
                Map<String, String> d = parse(data);
                String state = d.get("state");
                if (state != null && !state.isEmpty() && !LIVE.contains(state)) {
                    for (String k : List.of("caller", "callee", "gmtCreate", "state", "stateDesc")) {
                        assertTrue(d.containsKey(k), "Data lacks " + k + ": " + data);
                    }
                    return d;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("call " + callId + " not final within " + Env.DEADLINE_MS + " ms; last Data " + last);
    }

    /**
     * Waits for the final state through the client's own query, then for the
     * VoiceReport; both must say wantState. Records the call for the Go side.
     */
    public static Map<String, String> finish(String action, Query q, String callId, long prodId, String wantState) throws Exception {
        Map<String, String> d = waitFinal(q, callId, prodId);
        Map<String, Object> report = Receipts.shared().waitForCall(callId);
        String status = String.valueOf(report.get("status_code"));
        record(Env.client(), action, callId, d.get("state"), status);
        assertEquals(wantState, d.get("state"), "final state: " + d);
        assertEquals(wantState, status, "VoiceReport: " + report);
        return d;
    }

    /** Appends one line to the results file that the Go test checks. */
    public static synchronized void record(String client, String action, String callId, String state, String receipt) throws IOException {
        Map<String, String> line = new LinkedHashMap<>();
        line.put("suite", "java");
        line.put("client", client);
        line.put("action", action);
        line.put("call_id", callId);
        line.put("state", state);
        line.put("receipt", receipt);
        Files.writeString(Path.of(Env.get("DIALTONE_RESULTS")), GSON.toJson(line) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public static long queryDate() { return System.currentTimeMillis(); }
}
