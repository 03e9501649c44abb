package dialtone.compat;

import java.util.List;

/**
 * The error cases of the Go suite: QueryCallDetailByCallId for an unknown
 * call through a loopback proxy of the Go test (pass, duplicate or delay),
 * with a key that fails in one way.
 */
public record ErrorCase(String name, String proxyVar, String akVar, String secretVar, String code, int status) {
    public static final List<ErrorCase> ALL = List.of(
            new ErrorCase("wrongSecret", "DIALTONE_PASS_PROXY", "DIALTONE_FULL_AK", "DIALTONE_WRONG_SECRET", "SignatureDoesNotMatch", 400),
            new ErrorCase("unknownKey", "DIALTONE_PASS_PROXY", "DIALTONE_UNKNOWN_AK", "DIALTONE_WRONG_SECRET", "InvalidAccessKeyId.NotFound", 404),
            new ErrorCase("disabledKey", "DIALTONE_PASS_PROXY", "DIALTONE_DISABLED_AK", "DIALTONE_DISABLED_SECRET", "InvalidAccessKeyId.Inactive", 400),
            new ErrorCase("replay", "DIALTONE_DUP_PROXY", "DIALTONE_FULL_AK", "DIALTONE_FULL_SECRET", "SignatureNonceUsed", 400),
            new ErrorCase("oldTimestamp", "DIALTONE_DELAY_PROXY", "DIALTONE_FULL_AK", "DIALTONE_FULL_SECRET", "InvalidTimeStamp.Expired", 400));

    public String endpoint() { return Env.get(proxyVar); }
    public String ak() { return Env.get(akVar); }
    public String secret() { return Env.get(secretVar); }

    @Override
    public String toString() { return name; }
}
