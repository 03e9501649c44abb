package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/firstrun"
	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/server"
)

// "dialtone call ..." and "dialtone receipts watch" are clients of the POP
// API built on package sdk (which does not import the server).

const callUsage = `usage: dialtone call COMMAND [flags]

Commands:
  tts     --to NUMBER --template TTS_CODE [--param k=v ...] [--show NUMBER]   SingleCallByTts
  voice   --to NUMBER --voice VOICE_CODE [--show NUMBER]                      SingleCallByVoice
  ivr     --to NUMBER --show NUMBER --start CODE [--menu KEY=CODE ...]         IvrCall
  dial    --caller NUMBER --caller-show NUMBER --to NUMBER --show NUMBER      ClickToDial
  smart   --to NUMBER --show NUMBER --voice CODE[,CODE] [--param k=v ...]      SmartCall
  cancel  CALL_ID                                                             CancelCall
  get     CALL_ID --prod PRODUCT                                              QueryCallDetailByCallId

Placing commands take --wait to follow the call until it ends. Credentials:
--access-key-id/--access-key-secret, or ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET, or the profile file ~/.dialtone/config.json
(path in DIALTONE_CONFIG), or else the credentials file a local server wrote
at its first start (--data DIR, default DIALTONE_DATA or ./data). Endpoint:
--endpoint or DIALTONE_ENDPOINT (default 127.0.0.1:8080). Run
"dialtone call COMMAND -h" for all flags.
`

// clientFlags are the connection flags every client command shares.
type clientFlags struct {
	keyID, keySecret, token, endpoint, signature, output string
	adminToken, account, data                            string
}

func (cf *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.keyID, "access-key-id", "", "AccessKey ID (default: env ALIBABA_CLOUD_ACCESS_KEY_ID or the profile)")
	fs.StringVar(&cf.keySecret, "access-key-secret", "", "AccessKey secret (default: env ALIBABA_CLOUD_ACCESS_KEY_SECRET or the profile)")
	fs.StringVar(&cf.token, "security-token", "", "STS security token (default: env ALIBABA_CLOUD_SECURITY_TOKEN)")
	fs.StringVar(&cf.endpoint, "endpoint", "", "host:port or URL of the API (default: env DIALTONE_ENDPOINT, the profile, or 127.0.0.1:8080)")
	fs.StringVar(&cf.signature, "signature", "v3", "request signature: v3 (ACS3-HMAC-SHA256) or v1 (HMAC-SHA1)")
	fs.StringVar(&cf.output, "o", "text", "output: text or json")
	fs.StringVar(&cf.adminToken, "admin-token", "", "admin token for --wait's event timeline (default: env DIALTONE_ADMIN_TOKEN or the profile)")
	fs.StringVar(&cf.account, "account", "", "account UID for --wait's event timeline (default: found with the admin token)")
	fs.StringVar(&cf.data, "data", "", "data directory of a local server: its credentials file is used when nothing else gives credentials (default: env DIALTONE_DATA or ./data)")
}

// localCredentials reads the credentials file a local server wrote at its
// first start in dataDir ("": DIALTONE_DATA or ./data); none when there
// is none.
func localCredentials(dataDir string) firstrun.Credentials {
	dir := firstNonEmpty(dataDir, os.Getenv("DIALTONE_DATA"), server.DefaultDataDir)
	c, err := firstrun.ReadCredentials(filepath.Join(dir, firstrun.CredentialsFile))
	if err != nil {
		return firstrun.Credentials{}
	}
	return c
}

// profile is ~/.dialtone/config.json (or $DIALTONE_CONFIG).
type profile struct {
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	Endpoint        string `json:"endpoint"`
	AdminToken      string `json:"admin_token"`
	Account         string `json:"account"`
}

func loadProfile() (*profile, string, error) {
	path := os.Getenv("DIALTONE_CONFIG")
	explicit := path != ""
	if !explicit {
		home, err := os.UserHomeDir()
		if err != nil {
			return &profile{}, "", nil
		}
		path = filepath.Join(home, ".dialtone", "config.json")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return &profile{}, "", nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("profile %s: %w", path, err)
	}
	var p profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, path, fmt.Errorf("profile %s is not valid JSON: %w", path, err)
	}
	return &p, path, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// client resolves the credentials (flags, then environment, then profile)
// and returns an SDK client.
func (cf *clientFlags) client() (*sdk.Client, error) {
	p, _, err := loadProfile()
	if err != nil {
		return nil, err
	}
	cf.keyID = firstNonEmpty(cf.keyID, os.Getenv(sdk.EnvAccessKeyID), p.AccessKeyID)
	cf.keySecret = firstNonEmpty(cf.keySecret, os.Getenv(sdk.EnvAccessKeySecret), p.AccessKeySecret)
	local := firstrun.Credentials{}
	if cf.keyID == "" && cf.keySecret == "" {
		// Nothing configured: a local server's first-start credentials,
		// all of them, so the key and the account belong together.
		local = localCredentials(cf.data)
		cf.keyID, cf.keySecret = local.AccessKeyID, local.AccessKeySecret
	}
	cf.token = firstNonEmpty(cf.token, os.Getenv(sdk.EnvSecurityToken))
	cf.endpoint = firstNonEmpty(cf.endpoint, os.Getenv(sdk.EnvEndpoint), p.Endpoint, server.DefaultHTTPAddr)
	cf.adminToken = firstNonEmpty(cf.adminToken, os.Getenv("DIALTONE_ADMIN_TOKEN"), p.AdminToken, local.AdminToken)
	cf.account = firstNonEmpty(cf.account, os.Getenv("DIALTONE_ACCOUNT"), p.Account, local.AccountUID)
	if cf.keyID == "" || cf.keySecret == "" {
		return nil, errors.New("no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, pass --access-key-id and --access-key-secret, write them to ~/.dialtone/config.json ({\"access_key_id\":…,\"access_key_secret\":…}), or run where a local server keeps its data (--data DIR; it writes DIR/credentials at its first start)")
	}
	cfg := sdk.Config{AccessKeyID: cf.keyID, AccessKeySecret: cf.keySecret, SecurityToken: cf.token, Endpoint: cf.endpoint}
	switch strings.ToLower(cf.signature) {
	case "v3", "":
	case "v1":
		cfg.Signature = sdk.SignatureV1
	default:
		return nil, fmt.Errorf("--signature %q: want v3 or v1", cf.signature)
	}
	if cf.output != "text" && cf.output != "json" {
		return nil, fmt.Errorf("-o %q: want text or json", cf.output)
	}
	c, err := sdk.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--endpoint: %w", err)
	}
	return c, nil
}

// kvFlag collects repeated k=v flags.
type kvFlag map[string]string

func (k kvFlag) String() string { return "" }

func (k kvFlag) Set(s string) error {
	key, v, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("%q: want name=value", s)
	}
	k[key] = v
	return nil
}

// listFlag collects repeated flags.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// prodNames maps --prod names to ProdIds.
var prodNames = map[string]int64{
	"voice": sdk.ProdVoiceNotify, "tts": sdk.ProdVoiceNotify, "notify": sdk.ProdVoiceNotify,
	"code": sdk.ProdVerificationCode, "verification": sdk.ProdVerificationCode,
	"ivr": sdk.ProdIVR, "dial": sdk.ProdClickToDial, "clicktodial": sdk.ProdClickToDial, "smart": sdk.ProdSmartCall,
}

func parseProd(s string) (int64, error) {
	if id, ok := prodNames[strings.ToLower(s)]; ok {
		return id, nil
	}
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil || id <= 0 {
		return 0, fmt.Errorf("--prod %q: want voice, code, ivr, dial, smart or a ProdId such as 11000000300006", s)
	}
	return id, nil
}

func cmdCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, callUsage)
		return errUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("call "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	to := fs.String("to", "", "called number")
	show := fs.String("show", "", "number shown to the called party")
	outID := fs.String("out-id", "", "your ID, returned in receipts")
	param := kvFlag{}
	wait := fs.Bool("wait", false, "follow the call until it ends, printing its events")
	waitTimeout := fs.Duration("wait-timeout", 30*time.Minute, "give up --wait after this long")
	playTimes := fs.Int("play-times", 0, "times to play (1-3)")
	volume := fs.Int("volume", 0, "volume")
	speed := fs.Int("speed", 0, "speed")
	var (
		template, voice, start, bye, caller, callerShow, asrModel, dynamicID string
		menu                                                                 listFlag
		startParam, byeParam                                                 = kvFlag{}, kvFlag{}
		menuParam                                                            listFlag
		timeout, sessionTimeout, muteTime, pauseTime                         time.Duration
		record, noBreak                                                      bool
		prod                                                                 string
	)
	prodID := int64(0)
	switch sub {
	case "tts":
		fs.StringVar(&template, "template", "", "TTS template code (TtsCode)")
		fs.Var(param, "param", "template variable name=value (repeatable)")
		prodID = sdk.ProdVoiceNotify
	case "voice":
		fs.StringVar(&voice, "voice", "", "voice file code (VoiceCode)")
		prodID = sdk.ProdVoiceNotify
	case "ivr":
		fs.StringVar(&start, "start", "", "start prompt: voice file or TTS template (StartCode)")
		fs.Var(startParam, "start-param", "start prompt variable name=value (repeatable)")
		fs.Var(&menu, "menu", "menu item KEY=CODE (repeatable)")
		fs.Var(&menuParam, "menu-param", "menu item variable KEY:name=value (repeatable)")
		fs.StringVar(&bye, "bye", "", "closing prompt (ByeCode)")
		fs.Var(byeParam, "bye-param", "closing prompt variable name=value (repeatable)")
		fs.DurationVar(&timeout, "timeout", 0, "wait for a key press, e.g. 5s")
		prodID = sdk.ProdIVR
	case "dial":
		fs.StringVar(&caller, "caller", "", "caller number (A leg)")
		fs.StringVar(&callerShow, "caller-show", "", "number shown to the caller")
		fs.BoolVar(&record, "record", false, "record the call")
		fs.StringVar(&asrModel, "asr-model", "", "ASR model ID")
		fs.DurationVar(&sessionTimeout, "session-timeout", 0, "maximum call duration, e.g. 10m")
		prodID = sdk.ProdClickToDial
	case "smart":
		fs.StringVar(&voice, "voice", "", "first prompt: voice files, URLs and $var$ items (VoiceCode)")
		fs.Var(param, "param", "$var$ value name=value (repeatable; VoiceCodeParam)")
		fs.BoolVar(&record, "record", false, "record the call")
		fs.DurationVar(&muteTime, "mute-time", 0, "silence timeout, e.g. 10s")
		fs.DurationVar(&pauseTime, "pause-time", 0, "end-of-sentence pause, e.g. 800ms")
		fs.DurationVar(&sessionTimeout, "session-timeout", 0, "maximum call duration")
		fs.BoolVar(&noBreak, "no-action-code-break", false, "the user cannot interrupt the first prompt")
		fs.StringVar(&dynamicID, "dynamic-id", "", "DynamicId echoed to the callback")
		fs.StringVar(&asrModel, "asr-model", "", "ASR model ID")
		prodID = sdk.ProdSmartCall
	case "cancel":
	case "get":
		fs.StringVar(&prod, "prod", "", "product: voice, code, ivr, dial, smart or a ProdId")
	default:
		fmt.Fprintf(stderr, "dialtone call: unknown command %q\n\n%s", sub, callUsage)
		return errUsage
	}
	// Flags may come before or after the CALL_ID.
	var rest []string
	for remaining := args[1:]; ; {
		if err := fs.Parse(remaining); err != nil {
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		remaining = fs.Args()[1:]
	}
	if (sub == "cancel" || sub == "get") != (len(rest) == 1) {
		if sub == "cancel" || sub == "get" {
			fmt.Fprintf(stderr, "dialtone call %s: want exactly one CALL_ID\n", sub)
		} else {
			fmt.Fprintf(stderr, "dialtone call %s: unexpected argument %q\n", sub, rest[0])
		}
		return errUsage
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	out := &printer{w: stdout, errw: stderr, json: cf.output == "json"}
	var call *sdk.Call
	switch sub {
	case "tts":
		if *to == "" || template == "" {
			return errors.New("call tts: --to and --template are required")
		}
		call, err = c.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: *to, CalledShowNumber: *show, TtsCode: template, TtsParam: param,
			PlayTimes: *playTimes, Volume: *volume, Speed: *speed, OutID: *outID})
	case "voice":
		if *to == "" || voice == "" {
			return errors.New("call voice: --to and --voice are required")
		}
		call, err = c.SingleCallByVoice(ctx, sdk.VoiceCall{CalledNumber: *to, CalledShowNumber: *show, VoiceCode: voice,
			PlayTimes: *playTimes, Volume: *volume, Speed: *speed, OutID: *outID})
	case "ivr":
		if *to == "" || *show == "" || start == "" {
			return errors.New("call ivr: --to, --show and --start are required")
		}
		r := sdk.IvrCall{CalledNumber: *to, CalledShowNumber: *show, StartCode: start, StartTtsParams: startParam,
			ByeCode: bye, ByeTtsParams: byeParam, Timeout: timeout, PlayTimes: *playTimes, OutID: *outID}
		items := map[string]*sdk.MenuItem{}
		for _, m := range menu {
			k, code, ok := strings.Cut(m, "=")
			if !ok || k == "" || code == "" {
				return fmt.Errorf("call ivr: --menu %q: want KEY=CODE, e.g. --menu 1=TTS_100004", m)
			}
			r.MenuKeyMap = append(r.MenuKeyMap, sdk.MenuItem{Key: k, Code: code})
		}
		for i := range r.MenuKeyMap {
			items[r.MenuKeyMap[i].Key] = &r.MenuKeyMap[i]
		}
		for _, mp := range menuParam {
			k, kv, ok := strings.Cut(mp, ":")
			name, v, ok2 := strings.Cut(kv, "=")
			it := items[k]
			if !ok || !ok2 || it == nil {
				return fmt.Errorf("call ivr: --menu-param %q: want KEY:name=value for a KEY given with --menu", mp)
			}
			if it.TtsParams == nil {
				it.TtsParams = map[string]string{}
			}
			it.TtsParams[name] = v
		}
		call, err = c.IvrCall(ctx, r)
	case "dial":
		if caller == "" || callerShow == "" || *to == "" || *show == "" {
			return errors.New("call dial: --caller, --caller-show, --to and --show are required")
		}
		call, err = c.ClickToDial(ctx, sdk.ClickToDial{CallerNumber: caller, CallerShowNumber: callerShow, CalledNumber: *to,
			CalledShowNumber: *show, RecordFlag: record, AsrModelID: asrModel, SessionTimeout: sessionTimeout, OutID: *outID})
	case "smart":
		if *to == "" || *show == "" || voice == "" {
			return errors.New("call smart: --to, --show and --voice are required")
		}
		call, err = c.SmartCall(ctx, sdk.SmartCall{CalledNumber: *to, CalledShowNumber: *show, VoiceCode: voice, VoiceCodeParam: param,
			RecordFlag: record, MuteTime: muteTime, PauseTime: pauseTime, SessionTimeout: sessionTimeout, DisableActionCodeBreak: noBreak,
			DynamicID: dynamicID, AsrModelID: asrModel, Volume: *volume, Speed: *speed, OutID: *outID})
	case "cancel":
		ok, err := c.CancelCall(ctx, rest[0])
		if err != nil {
			return explain(err)
		}
		if out.json {
			return out.obj(map[string]any{"CallId": rest[0], "Status": ok})
		}
		if ok {
			fmt.Fprintf(stdout, "call %s cancelled\n", rest[0])
		} else {
			fmt.Fprintf(stdout, "call %s was not cancelled (it had already ended)\n", rest[0])
		}
		return nil
	case "get":
		if prod == "" {
			return errors.New("call get: --prod is required (voice, code, ivr, dial, smart or a ProdId)")
		}
		id, err := parseProd(prod)
		if err != nil {
			return err
		}
		d, err := c.QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{CallID: rest[0], ProdID: id, QueryDate: time.Now().Add(-23 * time.Hour)})
		if err != nil {
			return explain(err)
		}
		if d == nil {
			return fmt.Errorf("call %s: no record for product %d in the last 23 hours (check --prod)", rest[0], id)
		}
		out.detail(rest[0], d)
		return nil
	}
	if err != nil {
		return explain(err)
	}
	if out.json {
		out.obj(map[string]any{"CallId": call.CallID, "RequestId": call.RequestID})
	} else {
		fmt.Fprintf(stdout, "call accepted: %s\n", call.CallID)
	}
	if !*wait {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *waitTimeout)
	defer cancel()
	prods := []int64{prodID}
	if sub == "tts" {
		// The template's kind decides: verification code or notification.
		prods = []int64{sdk.ProdVerificationCode, sdk.ProdVoiceNotify}
	}
	return follow(wctx, c, &cf, out, call.CallID, prods)
}

// explain adds the fix to common errors.
func explain(err error) error {
	switch {
	case errors.Is(err, sdk.ErrAuth):
		return fmt.Errorf("%w\n(check the AccessKey ID and secret: --access-key-id/--access-key-secret or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET)", err)
	case errors.Is(err, sdk.ErrFlowControlled):
		return fmt.Errorf("%w\n(the callee was called too often; wait or raise the account's flow_control)", err)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Errorf("%w\n(is Dialtone running there? set --endpoint or DIALTONE_ENDPOINT)", err)
	}
	return err
}

// printer writes text or one JSON object per line.
type printer struct {
	w, errw io.Writer
	json    bool
}

func (p *printer) obj(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(sdk.ChinaTime).Format(sdk.TimeLayout)
}

func (p *printer) detail(id string, d *sdk.CallDetail) {
	if p.json {
		p.obj(map[string]any{"CallId": id, "Data": d.Raw})
		return
	}
	fmt.Fprintf(p.w, "call %s\n  state:    %s %s\n  callee:   %s (shown %s)\n", id, d.State, d.StateDesc, d.Callee, d.CalleeShowNumber)
	if d.Caller != "" {
		fmt.Fprintf(p.w, "  caller:   %s (shown %s)\n", d.Caller, d.CallerShowNumber)
	}
	fmt.Fprintf(p.w, "  created:  %s\n  answered: %s\n  ended:    %s\n  duration: %s\n", fmtTime(d.GmtCreate), fmtTime(d.StartDate), fmtTime(d.EndDate), d.Duration)
}

// callEvent is one entry of the admin API's call timeline.
type callEvent struct {
	Seq        int
	At         time.Time
	Type       string
	Leg        string
	StatusCode string
	Detail     map[string]string
}

// follow prints a call's progress until it ends. With an admin token it
// polls GET /admin/v1/accounts/{uid}/calls/{id}/events and prints every
// event; without one it polls QueryCallDetailByCallId and prints each
// change of state.
func follow(ctx context.Context, c *sdk.Client, cf *clientFlags, out *printer, callID string, prods []int64) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: 10 * time.Second}
	uid := cf.account
	if cf.adminToken != "" && uid == "" {
		var err error
		if uid, err = findAccount(ctx, hc, c.Endpoint(), cf.adminToken, cf.keyID); err != nil {
			fmt.Fprintf(out.errw, "dialtone: no event timeline (%v); following the call detail instead\n", err)
		}
	}
	seen, lastState := 0, ""
	for {
		var final *sdk.CallDetail
		if uid != "" {
			evs, state, detail, err := fetchEvents(ctx, hc, c.Endpoint(), cf.adminToken, uid, callID)
			if err != nil {
				return fmt.Errorf("following call %s: %w", callID, err)
			}
			for _, ev := range evs {
				if ev.Seq <= seen {
					continue
				}
				seen = ev.Seq
				out.event(ev)
			}
			if state == "ended" {
				final = detailFromMap(detail)
			}
		} else {
			var d *sdk.CallDetail
			for _, prod := range prods {
				var err error
				if d, err = c.QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{CallID: callID, ProdID: prod}); err != nil {
					return explain(err)
				}
				if d != nil {
					prods = []int64{prod}
					break
				}
			}
			if d != nil && d.State != lastState {
				lastState = d.State
				if out.json {
					out.obj(map[string]any{"CallId": callID, "state": d.State, "stateDesc": d.StateDesc})
				} else {
					fmt.Fprintf(out.w, "%s  state %s %s\n", time.Now().In(sdk.ChinaTime).Format("15:04:05.000"), d.State, d.StateDesc)
				}
			}
			if d != nil && d.Final() {
				final = d
			}
		}
		if final != nil {
			if out.json {
				return out.obj(map[string]any{"CallId": callID, "final": true, "Data": final.Raw})
			}
			fmt.Fprintf(out.w, "call ended: %s %s (duration %s)\n", final.State, final.StateDesc, final.Duration)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped following call %s: %w", callID, ctx.Err())
		case <-tick.C:
		}
	}
}

func (p *printer) event(ev callEvent) {
	if p.json {
		p.obj(ev)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-9s", ev.At.In(sdk.ChinaTime).Format("15:04:05.000"), ev.Type)
	if ev.Leg != "" {
		fmt.Fprintf(&b, " leg %s", ev.Leg)
	}
	if ev.StatusCode != "" {
		fmt.Fprintf(&b, " status %s", ev.StatusCode)
	}
	keys := make([]string, 0, len(ev.Detail))
	for k := range ev.Detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, ev.Detail[k])
	}
	fmt.Fprintln(p.w, b.String())
}

func adminGet(ctx context.Context, hc *http.Client, base, token, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin API %s: HTTP %d: %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, out)
}

// findAccount returns the UID of the account owning accessKeyID.
func findAccount(ctx context.Context, hc *http.Client, base, token, accessKeyID string) (string, error) {
	var accts struct {
		Accounts []struct {
			UID string `json:"uid"`
		} `json:"accounts"`
	}
	if err := adminGet(ctx, hc, base, token, "/admin/v1/accounts", &accts); err != nil {
		return "", err
	}
	for _, a := range accts.Accounts {
		var keys struct {
			Keys []struct {
				ID string `json:"id"`
			} `json:"keys"`
		}
		if err := adminGet(ctx, hc, base, token, "/admin/v1/accounts/"+url.PathEscape(a.UID)+"/keys", &keys); err != nil {
			return "", err
		}
		for _, k := range keys.Keys {
			if k.ID == accessKeyID {
				return a.UID, nil
			}
		}
	}
	return "", fmt.Errorf("no account owns AccessKey %s; pass --account", accessKeyID)
}

func fetchEvents(ctx context.Context, hc *http.Client, base, token, uid, callID string) ([]callEvent, string, map[string]any, error) {
	var r struct {
		State  string         `json:"state"`
		Call   map[string]any `json:"call"`
		Events []callEvent    `json:"events"`
	}
	err := adminGet(ctx, hc, base, token, "/admin/v1/accounts/"+url.PathEscape(uid)+"/calls/"+url.PathEscape(callID)+"/events", &r)
	return r.Events, r.State, r.Call, err
}

// detailFromMap decodes the admin API's copy of the call detail (the
// same document as QueryCallDetailByCallId's Data).
func detailFromMap(m map[string]any) *sdk.CallDetail {
	b, _ := json.Marshal(m)
	d, err := sdk.ParseCallDetail(string(b))
	if err != nil {
		return &sdk.CallDetail{Raw: m}
	}
	return d
}
