package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/poptest"
)

type explorerData struct {
	Actions []ActionDef
	Keys    []dialtone.AccessKey
	// ActionsJSON feeds the page's script the same table (validation).
	ActionsJSON string
	// Picks are the account's values offered in the fields' lists;
	// Defaults the values the fields start with (real values of the
	// account, sent as shown), by action and parameter.
	Picks    map[string][]pickOption
	Defaults map[string]map[string]string
	// PickEmpty says, for a kind of value the account has none of, where
	// to make one.
	PickEmpty map[string]string
	// Libs lists the client libraries (the table of clientlibs.go), for
	// the install lines the page shows before any code is asked for;
	// Generations the same, grouped for the tabs.
	Libs        []ClientLib
	Generations []libGroup
}

// libGroup is one generation's libraries.
type libGroup struct {
	Title string
	Libs  []ClientLib
}

func libGroups() []libGroup {
	var out []libGroup
	for _, gen := range []string{GenSeed, GenNewest, GenDialtone} {
		g := libGroup{Title: GenerationTitles[gen]}
		for _, l := range ClientLibs {
			if l.Generation == gen {
				g.Libs = append(g.Libs, l)
			}
		}
		out = append(out, g)
	}
	return out
}

// pickEmpty tells where each kind of value comes from, for an account
// that has none yet.
var pickEmpty = map[string]string{
	PickNumber:    "The account has no display numbers yet (Numbers page).",
	PickCallee:    "Type the number to call.",
	PickTemplate:  "No approved template yet (Templates page).",
	PickVoice:     "No approved notification voice file yet (Voice files page).",
	PickPrompt:    "No approved template or voice file yet (Templates, Voice files).",
	PickSmartCode: "No approved smart-call voice file yet; $name$ items and URLs work too.",
	PickCall:      "No call yet: place one first.",
	PickCallCTD:   "No ClickToDial call yet: place one first.",
	PickCallSmart: "No SmartCall call yet: place one first.",
}

// pickOption is one value a field's list offers.
type pickOption struct {
	Value string
	Label string
	// For calls: the ProdId and QueryDate that find it
	// (QueryCallDetailByCallId fills them in when the call is picked).
	ProdID    string
	QueryDate string
	// For templates: the variables as a JSON object of example values.
	Vars string
}

func (c *Console) explorerPage(w http.ResponseWriter, r *http.Request, v *view) {
	keys, err := c.store.ListAccessKeys(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "keys", err)
		return
	}
	enabled := keys[:0]
	for _, k := range keys {
		if k.Enabled {
			k.Secret = "" // never sent to the browser
			enabled = append(enabled, k)
		}
	}
	picks, err := c.explorerPicks(r, v.Account)
	if err != nil {
		c.internal(w, r, "explorer values", err)
		return
	}
	b, _ := json.Marshal(Actions)
	v.Title = "API Explorer"
	v.Data = explorerData{Actions: Actions, Keys: enabled, ActionsJSON: string(b), Picks: picks,
		Defaults: explorerDefaults(picks), PickEmpty: pickEmpty, Libs: ClientLibs, Generations: libGroups()}
	c.render(w, r, http.StatusOK, "explorer.html", v, "")
}

// explorerPicks gathers the account's values the Explorer offers: display
// numbers, approved templates and voice files, recent calls, and the
// simulated network's subscribers (callees that exist on this node).
func (c *Console) explorerPicks(r *http.Request, account string) (map[string][]pickOption, error) {
	ctx := r.Context()
	picks := map[string][]pickOption{}
	nums, err := c.store.ListNumbers(ctx, account)
	if err != nil {
		return nil, err
	}
	for _, n := range nums {
		picks[PickNumber] = append(picks[PickNumber], pickOption{Value: n.Number, Label: fmt.Sprintf("display number, %d concurrent calls", n.Concurrency)})
	}
	tpls, err := c.store.ListTemplates(ctx, account)
	if err != nil {
		return nil, err
	}
	for _, t := range tpls {
		if t.Status != dialtone.ReviewApproved {
			continue
		}
		o := pickOption{Value: t.Code, Label: string(t.Kind) + ": " + truncate(t.Content, 40), Vars: templateExample(t)}
		picks[PickTemplate] = append(picks[PickTemplate], o)
		picks[PickPrompt] = append(picks[PickPrompt], o)
	}
	files, err := c.store.ListVoiceFiles(ctx, account)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Status != dialtone.ReviewApproved {
			continue
		}
		o := pickOption{Value: f.Code, Label: fmt.Sprintf("%s voice file, %s", f.Kind, f.Duration.Round(100*time.Millisecond))}
		if f.Kind == dialtone.VoiceFileSmartCall {
			picks[PickSmartCode] = append(picks[PickSmartCode], o)
			continue
		}
		picks[PickVoice] = append(picks[PickVoice], o)
		picks[PickPrompt] = append(picks[PickPrompt], o)
	}
	calls, err := c.store.ListCalls(ctx, dialtone.CallFilter{AccountUID: account, Limit: 30})
	if err != nil {
		return nil, err
	}
	for _, call := range calls {
		// QueryDate finds calls created in the 24 h from it: the start of
		// the call's minute is safely before it.
		o := pickOption{Value: call.ID, Label: fmt.Sprintf("%s to %s, %s, %s", call.Kind, call.Callee, fmtTime(call.CreatedAt), callStateLabel(call)),
			ProdID: strconv.FormatInt(call.ProdID, 10), QueryDate: strconv.FormatInt(call.CreatedAt.Truncate(time.Minute).UnixMilli(), 10)}
		picks[PickCall] = append(picks[PickCall], o)
		switch call.Kind {
		case dialtone.KindClickToDial:
			picks[PickCallCTD] = append(picks[PickCallCTD], o)
		case dialtone.KindSmartCall:
			picks[PickCallSmart] = append(picks[PickCallSmart], o)
		}
	}
	if c.cfg.Net != nil {
		subs := c.cfg.Net.Subscribers()
		// Subscribers that answer first: the call a user tries first is
		// one that is heard.
		sort.SliceStable(subs, func(i, j int) bool { return answers(subs[i]) && !answers(subs[j]) })
		for _, s := range subs {
			picks[PickCallee] = append(picks[PickCallee], pickOption{Value: s.Number, Label: "simulated subscriber: " + behaviorLabel(s.Behavior)})
		}
	}
	return picks, nil
}

func answers(s sim.Subscriber) bool {
	return s.Result == "" || s.Result == sim.ResultAnswer
}

func behaviorLabel(b sim.Behavior) string {
	if b.Result == "" {
		return string(sim.ResultAnswer)
	}
	return string(b.Result)
}

func callStateLabel(c dialtone.Call) string {
	if c.StatusCode != "" {
		return c.StatusCode
	}
	return string(c.State)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// templateExample is a TtsParam for a template: each variable with an
// example value (digits for verification codes, whose variables take
// digits and letters only). "" for a template without variables.
func templateExample(t dialtone.TTSTemplate) string {
	vars := dialtone.TemplateVars(t.Content)
	if len(vars) == 0 {
		return ""
	}
	m := map[string]string{}
	for _, name := range vars {
		if t.Kind == dialtone.TemplateVerification {
			m[name] = "1234"
		} else {
			m[name] = name
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// explorerDefaults are the values the Explorer's fields start with: the
// first of the account's values each field offers, and what follows from
// them (a template's variables, a call's ProdId and date). Fields without
// such a value start empty.
func explorerDefaults(picks map[string][]pickOption) map[string]map[string]string {
	first := func(kind string, i int) (pickOption, bool) {
		list := picks[kind]
		if len(list) == 0 {
			return pickOption{}, false
		}
		if i >= len(list) {
			i = len(list) - 1
		}
		return list[i], true
	}
	out := map[string]map[string]string{}
	for _, a := range Actions {
		d := map[string]string{}
		// ClickToDial has two legs: the second display number and the
		// second callee, when there are two, go to the second leg.
		used := map[string]int{}
		for _, p := range a.Params {
			if p.Pick == "" {
				continue
			}
			i := 0
			if p.Pick == PickNumber || p.Pick == PickCallee {
				i = used[p.Pick]
				used[p.Pick]++
			}
			o, ok := first(p.Pick, i)
			if !ok {
				continue
			}
			d[p.Name] = o.Value
			switch {
			case p.Name == "TtsCode" && o.Vars != "":
				d["TtsParam"] = o.Vars
			case p.Name == "StartCode" && o.Vars != "":
				d["StartTtsParams"] = o.Vars
			case p.Name == "CallId" && a.Name == "QueryCallDetailByCallId":
				d["ProdId"], d["QueryDate"] = o.ProdID, o.QueryDate
			}
		}
		if a.Name == "IvrCall" {
			// A menu of the account's prompts: key 1 and key 2.
			var items []map[string]string
			for i, o := range picks[PickPrompt] {
				if i == 2 {
					break
				}
				item := map[string]string{"Key": strconv.Itoa(i + 1), "Code": o.Value}
				if o.Vars != "" {
					item["TtsParams"] = o.Vars
				}
				items = append(items, item)
			}
			if len(items) > 0 {
				b, _ := json.Marshal(items)
				d["MenuKeyMap"] = string(b)
			}
		}
		out[a.Name] = d
	}
	return out
}

type explorerRequest struct {
	Action string            `json:"action"`
	Key    string            `json:"key"`
	Params map[string]string `json:"params"`
}

// readExplorer decodes and validates the page's request; problems come
// back as a list for the page to show.
func readExplorer(w http.ResponseWriter, r *http.Request) (*explorerRequest, *ActionDef, map[string]string, []string) {
	var req explorerRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		return nil, nil, nil, []string{"The request is not valid JSON."}
	}
	def, ok := actionDef(req.Action)
	if !ok {
		return nil, nil, nil, []string{"Unknown action " + req.Action + "."}
	}
	wire, problems := expandParams(def, req.Params)
	return &req, def, wire, problems
}

// validate checks one value against its definition, as the page's script
// does before sending.
func validate(p Param, v string) string {
	if v == "" {
		if p.Required {
			return p.Name + " is required."
		}
		return ""
	}
	if n := utf8.RuneCountInString(v); p.MaxLen > 0 && n > p.MaxLen || n < p.MinLen {
		if p.MinLen > 0 {
			return fmt.Sprintf("%s has %d to %d characters.", p.Name, p.MinLen, p.MaxLen)
		}
		return fmt.Sprintf("%s has at most %d characters.", p.Name, p.MaxLen)
	}
	if len(p.Enum) > 0 {
		found := false
		for _, e := range p.Enum {
			found = found || e == v
		}
		if !found {
			return p.Name + " must be one of " + strings.Join(p.Enum, ", ") + "."
		}
	}
	switch p.Type {
	case TInt32, TInt64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return p.Name + " must be a whole number."
		}
		if p.HasRange && (n < p.Min || n > p.Max) {
			return fmt.Sprintf("%s must be between %d and %d.", p.Name, p.Min, p.Max)
		}
	case TFloat:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return p.Name + " must be a number."
		}
	case TBool:
		if v != "true" && v != "false" {
			return p.Name + " must be true or false."
		}
	case TJSON:
		var m map[string]any
		if json.Unmarshal([]byte(v), &m) != nil {
			return p.Name + " must be a JSON object, e.g. {\"code\":\"1234\"}."
		}
	case TMenuMap:
		var items []map[string]string
		if json.Unmarshal([]byte(v), &items) != nil || len(items) == 0 || len(items) > 15 {
			return p.Name + ` must be a JSON array of 1 to 15 items like {"Key":"1","Code":"TTS_100001"}.`
		}
	}
	return ""
}

// expandParams validates the form's values and turns them into wire
// parameters (MenuKeyMap expanded to MenuKeyMap.N.*).
func expandParams(def *ActionDef, in map[string]string) (map[string]string, []string) {
	wire := map[string]string{}
	var problems []string
	for _, p := range def.Params {
		v := strings.TrimSpace(in[p.Name])
		if msg := validate(p, v); msg != "" {
			problems = append(problems, msg)
			continue
		}
		if v == "" {
			continue
		}
		if p.Type == TMenuMap {
			var items []map[string]string
			_ = json.Unmarshal([]byte(v), &items)
			for i, it := range items {
				for _, f := range []string{"Key", "Code", "TtsParams"} {
					if it[f] != "" {
						wire[fmt.Sprintf("%s.%d.%s", p.Name, i+1, f)] = it[f]
					}
				}
			}
			continue
		}
		wire[p.Name] = v
	}
	for name := range in {
		known := false
		for _, p := range def.Params {
			known = known || p.Name == name
		}
		if !known {
			problems = append(problems, "Unknown parameter "+name+".")
		}
	}
	sort.Strings(problems)
	return wire, problems
}

// popEndpoint is where the node's own POP API answers: the configured
// endpoint, or the loopback address on the port this request came in on.
func (c *Console) popEndpoint(r *http.Request) (string, error) {
	if c.cfg.POPEndpoint != "" {
		return c.cfg.POPEndpoint, nil
	}
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "", errors.New("the listening port is unknown")
	}
	host := "127.0.0.1"
	if tcp.IP.To4() == nil && tcp.IP.IsLoopback() {
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)), nil
}

type explorerResult struct {
	Problems []string  `json:"problems,omitempty"`
	Request  string    `json:"request,omitempty"`
	Response string    `json:"response,omitempty"`
	Status   int       `json:"status,omitempty"`
	Error    string    `json:"error,omitempty"`
	Snippets []Snippet `json:"snippets,omitempty"`
}

// explorerSend signs the request with one of the account's keys on the
// server (the secret never reaches the browser) and sends it to the node's
// own POP endpoint over loopback, answering the raw exchange.
func (c *Console) explorerSend(w http.ResponseWriter, r *http.Request, v *view) {
	req, def, wire, problems := readExplorer(w, r)
	if len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, explorerResult{Problems: problems})
		return
	}
	key, err := c.accountKey(r, v, req.Key)
	if err != nil || !key.Enabled {
		writeJSON(w, http.StatusBadRequest, explorerResult{Problems: []string{"Choose an enabled AccessKey of this account."}})
		return
	}
	ep, err := c.popEndpoint(r)
	if err != nil {
		c.internal(w, r, "explorer endpoint", err)
		return
	}
	signer := &poptest.Signer{Endpoint: ep, AccessKeyID: key.ID, Secret: key.Secret}
	out := signer.V1(http.MethodPost, def.Name, wire, poptest.InBody)
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	out = out.WithContext(ctx)
	res := explorerResult{}
	if dump, err := httputil.DumpRequestOut(out, true); err == nil {
		res.Request = string(dump)
	}
	// No redirects: the answer of the endpoint itself is what is shown.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(out)
	if err != nil {
		res.Error = "The request failed: " + err.Error()
		writeJSON(w, http.StatusOK, res)
		return
	}
	defer resp.Body.Close()
	resp.Body = io.NopCloser(io.LimitReader(resp.Body, 1<<20))
	if dump, err := httputil.DumpResponse(resp, true); err == nil {
		res.Response = string(dump)
	}
	res.Status = resp.StatusCode
	c.log.InfoContext(r.Context(), "console: explorer request", "action", def.Name, "access_key_id", key.ID, "status", resp.StatusCode, "by", v.Session.Username)
	res.Snippets = snippets(def, wire, r.Host, requestScheme(r), key.ID)
	writeJSON(w, http.StatusOK, res)
}

// explorerCode answers the same call as ready-to-paste code.
func (c *Console) explorerCode(w http.ResponseWriter, r *http.Request, v *view) {
	req, def, wire, problems := readExplorer(w, r)
	if req == nil {
		writeJSON(w, http.StatusBadRequest, explorerResult{Problems: problems})
		return
	}
	keyID := "YOUR_ACCESS_KEY_ID"
	if k, err := c.accountKey(r, v, req.Key); err == nil {
		keyID = k.ID
	}
	res := explorerResult{Problems: problems}
	res.Snippets = snippets(def, wire, r.Host, requestScheme(r), keyID)
	writeJSON(w, http.StatusOK, res)
}

// requestScheme is the scheme the browser reached this node with: the
// snippets call the API the same way (it is served on the same port).
func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
