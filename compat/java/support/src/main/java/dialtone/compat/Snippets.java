package dialtone.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The console's API Explorer snippets for Java, run as copied: the Go test
 * asked the Explorer (signed in as a user of the calls account) for the
 * code of a few calls and wrote each to
 * DIALTONE_SNIPPETS/java/GENERATION/NAME/Example.java. A snippet runs as
 * `java -cp <the module's test classpath> Example.java` (the client version
 * of that module, the one the page's install line names) with the secret in
 * ALIBABA_CLOUD_ACCESS_KEY_SECRET, as the page tells the user; the call it
 * placed is then followed to its VoiceReport.
 */
public final class Snippets {
    private static final Pattern CALL_ID = Pattern.compile("\"CallId\":\"([^\"]+)\"");

    private Snippets() {}

    public static void runAndFollow(String generation, String name) throws Exception {
        Path source = Path.of(Env.get("DIALTONE_SNIPPETS"), "java", generation, name, "Example.java");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"), source.toString()));
        pb.environment().put("ALIBABA_CLOUD_ACCESS_KEY_SECRET", Env.secret());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
        pb.directory(new File(source.getParent().toString()));
        Process p = pb.start();
        boolean exited = p.waitFor(Env.DEADLINE_MS * 2, TimeUnit.MILLISECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(exited, "the snippet did not end: " + out);
        assertEquals(0, p.exitValue(), out);
        // The response body as JSON (SLF4J may warn before it).
        assertTrue(out.contains("\"Code\":\"OK\""), "the snippet printed: " + out);
        Matcher m = CALL_ID.matcher(out);
        assertTrue(m.find(), "no CallId in: " + out);
        String callId = m.group(1);

        Map<String, Object> report = Receipts.shared().waitForCall(callId);
        String status = String.valueOf(report.get("status_code"));
        Calls.record("java console Explorer snippet (" + generation + ", " + System.getProperty("client.name") + ")", name, callId, status, status);
        assertEquals("200000", status, report.toString());
    }
}
