package dialtone.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The console's API Explorer snippets for Java, run as copied: the Go test
 * asked the Explorer (signed in as a user of the calls account) for the
 * code of a few calls and wrote each to DIALTONE_SNIPPETS/java/NAME/Example.java.
 * Each runs as `java -cp <this module's test classpath> Example.java` (the
 * classic clients the snippet imports) with the secret in
 * ALIBABA_CLOUD_ACCESS_KEY_SECRET, as the page tells the user; the call is
 * then followed to its VoiceReport by OutId.
 */
class ExplorerSnippetsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"tts,explorer-tts", "ivr,explorer-ivr", "clicktodial,explorer-ctd"})
    void snippetRunsAsCopied(String name, String outId) throws Exception {
        Path source = Path.of(Env.get("DIALTONE_SNIPPETS"), "java", name, "Example.java");
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
        // Its one line of output, "Code Message" (SLF4J may warn before it).
        assertTrue(out.lines().anyMatch(l -> l.equals("OK OK")), "the snippet printed: " + out);

        Map<String, Object> report = Receipts.shared().waitForOutId(outId);
        String status = String.valueOf(report.get("status_code"));
        Calls.record("java console Explorer snippet", name, String.valueOf(report.get("call_id")), status, status);
        assertEquals("200000", status, report.toString());
    }
}
