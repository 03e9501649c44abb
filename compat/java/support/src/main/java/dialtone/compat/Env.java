package dialtone.compat;

/**
 * The environment TestJavaClients (compat/java_test.go) sets: the calls
 * server of compat/testdata/calls.yaml, the proxies in front of the shared
 * servers and the keys of compat/testdata/provision.yaml. Numbers,
 * templates and the voice file are those of calls.yaml.
 */
public final class Env {
    private Env() {}

    public static String get(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("environment variable " + name
                    + " is not set; run the suite with 'go test -run TestJavaClients' in compat");
        }
        return v;
    }

    public static String calls() { return get("DIALTONE_CALLS_ENDPOINT"); }
    public static String uid() { return get("DIALTONE_CALLS_UID"); }
    public static String ak() { return get("DIALTONE_CALLS_AK"); }
    public static String secret() { return get("DIALTONE_CALLS_SECRET"); }
    public static String client() { return System.getProperty("client.name", "java"); }

    // testdata/calls.yaml
    public static final String SHOW_NUMBER = "057188880000";
    public static final String SHOW_NUMBER_2 = "057188880001";
    public static final String VOICE_CODE = "compat-notice.wav";
    public static final String SUB_LISTENS = "13900000001";
    public static final String SUB_PRESSES_2 = "13900000005";
    public static final String SUB_NEVER_KEYS = "13900000006";
    public static final String SUB_TALKS = "13900000007";
    public static final String CTD_CALLER = "13900000011";
    public static final String CTD_CALLEE = "13900000012";      // talks 5 s, then hangs up
    public static final String CTD_CALLER_LONG = "13900000013"; // rings 40 s
    public static final String TPL_NOTIFY = "TTS_900002";
    public static final String TPL_IVR_MENU = "TTS_900003";
    public static final String TPL_SALES = "TTS_900004";
    public static final String TPL_SUPPORT = "TTS_900005";

    public static final long PROD_VOICE_NOTIFY = 11000000300006L;
    public static final long PROD_IVR = 11000000300005L;
    public static final long PROD_CLICK_TO_DIAL = 11000000300004L;
    public static final long PROD_SMART_CALL = 11030000180001L;

    public static final String UNKNOWN_CALL_ID = "116012354148^102813780000";
    /** Every wait of the suite is bounded by this. */
    public static final long DEADLINE_MS = 30_000;
}
