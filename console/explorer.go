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
	"github.com/dialtone-voice/dialtone/poptest"
)

type explorerData struct {
	Actions []ActionDef
	Keys    []dialtone.AccessKey
	// ActionsJSON feeds the page's script the same table (validation).
	ActionsJSON string
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
	b, _ := json.Marshal(Actions)
	v.Title = "API Explorer"
	v.Data = explorerData{Actions: Actions, Keys: enabled, ActionsJSON: string(b)}
	c.render(w, r, http.StatusOK, "explorer.html", v, "")
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
	Problems []string          `json:"problems,omitempty"`
	Request  string            `json:"request,omitempty"`
	Response string            `json:"response,omitempty"`
	Status   int               `json:"status,omitempty"`
	Error    string            `json:"error,omitempty"`
	Code     map[string]string `json:"code,omitempty"`
	Order    []string          `json:"order,omitempty"`
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
	res.Code, res.Order = snippets(def, wire, r.Host, key.ID)
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
	res.Code, res.Order = snippets(def, wire, r.Host, keyID)
	writeJSON(w, http.StatusOK, res)
}
