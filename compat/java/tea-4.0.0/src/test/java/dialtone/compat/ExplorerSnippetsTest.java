package dialtone.compat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The console's API Explorer Java snippets of the "newest" generation, which
 * name this module's client version in their install line; see Snippets.
 */
class ExplorerSnippetsTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tts", "ivr", "clicktodial"})
    void snippetRunsAsCopied(String name) throws Exception {
        Snippets.runAndFollow("newest", name);
    }
}
