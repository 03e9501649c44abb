package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Document is a provisioning document as `dialtone apply` sends it: its
// YAML with the files it names.
type Document struct {
	// Name names the document in the server's messages (its file name).
	Name string
	YAML []byte
	// Files are the files the document names (voice files), by the path
	// the document gives (provision.ReadFiles reads them).
	Files map[string][]byte
	// DryRun asks the server what applying would change, writing nothing.
	DryRun bool
}

// Apply sends a provisioning document with its files to a running server
// (the CLI's "dialtone apply") and returns what the server applied, or for
// a dry run would apply. A nil hc uses a client with a 5 minute timeout
// (the files may be large). A rejection comes back as an *APIError whose
// text carries the server's message, e.g. every invalid line of the
// document.
func Apply(ctx context.Context, serverURL, token string, doc Document, hc *http.Client) (Result, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	req, err := NewApplyRequest(ctx, serverURL, token, doc)
	if err != nil {
		return Result{}, err
	}
	endpoint := req.URL.Redacted()
	resp, err := hc.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("admin: POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Result{}, fmt.Errorf("admin: POST %s: reading the answer: %w", endpoint, err)
	}
	if resp.StatusCode == http.StatusOK {
		var res Result
		if err := json.Unmarshal(answer, &res); err != nil {
			return Result{}, fmt.Errorf("admin: POST %s: unexpected answer (is this a Dialtone server?): %w", endpoint, err)
		}
		return res, nil
	}
	apiErr := &APIError{}
	if json.Unmarshal(answer, apiErr) == nil && apiErr.Code != "" {
		apiErr.Status = resp.StatusCode
		return Result{}, apiErr
	}
	return Result{}, fmt.Errorf("admin: POST %s: HTTP %s (is this a Dialtone server with the admin API?): %s",
		endpoint, resp.Status, snippet(answer))
}

// NewApplyRequest builds the request Apply sends: POST
// /admin/v1/provision with a multipart/form-data body of the document and
// its files.
func NewApplyRequest(ctx context.Context, serverURL, token string, doc Document) (*http.Request, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if doc.Name != "" {
		if err := mw.WriteField(PartDocumentName, doc.Name); err != nil {
			return nil, err
		}
	}
	parts := []struct {
		name string
		data []byte
	}{{PartDocument, doc.YAML}}
	paths := make([]string, 0, len(doc.Files))
	for p := range doc.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		parts = append(parts, struct {
			name string
			data []byte
		}{PartFilePrefix + p, doc.Files[p]})
	}
	for _, p := range parts {
		w, err := mw.CreateFormFile(p.name, path.Base(p.name))
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(p.data); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(serverURL, "/") + "/admin/v1/provision"
	if doc.DryRun {
		endpoint += "?dry_run=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &body)
	if err != nil {
		return nil, fmt.Errorf("admin: server URL %q: %w", serverURL, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
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
