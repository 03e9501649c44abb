package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ApplyFile sends a provisioning document to a running server (the CLI's
// "dialtone apply") and returns what the server applied. A nil hc uses a
// client with a 60 s timeout. A rejection comes back as an *APIError whose
// text carries the server's message, e.g. every invalid line of the
// document.
func ApplyFile(ctx context.Context, serverURL, token string, yaml []byte, hc *http.Client) (Result, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	endpoint := strings.TrimRight(serverURL, "/") + "/admin/v1/provision"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(yaml))
	if err != nil {
		return Result{}, fmt.Errorf("admin: server URL %q: %w", serverURL, err)
	}
	req.Header.Set("Content-Type", "application/yaml")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("admin: POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Result{}, fmt.Errorf("admin: POST %s: reading the answer: %w", endpoint, err)
	}
	if resp.StatusCode == http.StatusOK {
		var res Result
		if err := json.Unmarshal(body, &res); err != nil {
			return Result{}, fmt.Errorf("admin: POST %s: unexpected answer (is this a Dialtone server?): %w", endpoint, err)
		}
		return res, nil
	}
	apiErr := &APIError{}
	if json.Unmarshal(body, apiErr) == nil && apiErr.Code != "" {
		apiErr.Status = resp.StatusCode
		return Result{}, apiErr
	}
	return Result{}, fmt.Errorf("admin: POST %s: HTTP %s (is this a Dialtone server with the admin API?): %s",
		endpoint, resp.Status, snippet(body))
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// quoteShort quotes a path value for a message, shortened so that a long
// URL segment does not flood the answer.
func quoteShort(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

// call sends one JSON request to the admin API and decodes a 2xx answer
// into out (when non-nil); other answers become *APIError.
func call(ctx context.Context, hc *http.Client, method, serverURL, path, token string, out any) error {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	endpoint := strings.TrimRight(serverURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, endpoint, nil)
	if err != nil {
		return fmt.Errorf("admin: server URL %q: %w", serverURL, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %s %s: %w", method, endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("admin: %s %s: reading the answer: %w", method, endpoint, err)
	}
	if resp.StatusCode/100 == 2 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("admin: %s %s: unexpected answer (is this a Dialtone server?): %w", method, endpoint, err)
		}
		return nil
	}
	apiErr := &APIError{}
	if json.Unmarshal(body, apiErr) == nil && apiErr.Code != "" {
		apiErr.Status = resp.StatusCode
		return apiErr
	}
	return fmt.Errorf("admin: %s %s: HTTP %s: %s", method, endpoint, resp.Status, snippet(body))
}

// ListDeadLetters returns an account's dead letters (the CLI's "dialtone
// receipts dead-letters").
func ListDeadLetters(ctx context.Context, serverURL, token, accountUID string, hc *http.Client) ([]DeadLetter, error) {
	var out struct {
		DeadLetters []DeadLetter `json:"dead_letters"`
	}
	err := call(ctx, hc, http.MethodGet, serverURL, "/admin/v1/accounts/"+url.PathEscape(accountUID)+"/deadletters", token, &out)
	return out.DeadLetters, err
}

// Redrive makes an account's dead letters due again (the CLI's "dialtone
// receipts redrive") and returns how many.
func Redrive(ctx context.Context, serverURL, token, accountUID string, hc *http.Client) (int, error) {
	var out RedriveResult
	err := call(ctx, hc, http.MethodPost, serverURL, "/admin/v1/accounts/"+url.PathEscape(accountUID)+"/deadletters/redrive", token, &out)
	return out.Redriven, err
}
