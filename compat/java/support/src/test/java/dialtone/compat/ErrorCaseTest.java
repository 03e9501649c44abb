package dialtone.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The error table the client modules share matches the Go suite's
 * (compat/cases_test.go). It needs no server, so scripts/install-deps.sh
 * runs it to bring Surefire's JUnit provider into the local repository
 * before the suite runs offline.
 */
class ErrorCaseTest {
    @Test
    void sameCasesAsTheGoSuite() {
        Map<String, String> got = new TreeMap<>();
        for (ErrorCase c : ErrorCase.ALL) {
            got.put(c.name(), c.code() + " " + c.status());
        }
        assertEquals(Map.of(
                "wrongSecret", "SignatureDoesNotMatch 400",
                "unknownKey", "InvalidAccessKeyId.NotFound 404",
                "disabledKey", "InvalidAccessKeyId.Inactive 400",
                "replay", "SignatureNonceUsed 400",
                "oldTimestamp", "InvalidTimeStamp.Expired 400"), got);
    }
}
