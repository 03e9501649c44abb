package sdk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PushSignatureHeader carries the signature of Dialtone's HTTP batch
// pushes: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
const PushSignatureHeader = "X-Dialtone-Signature"

// PushTolerance is the largest clock difference PushHandler accepts.
const PushTolerance = 5 * time.Minute

// PushHandler receives HTTP batch pushes of receipts (a JSON array). With
// a non-empty secret (the subscription's push_secret) it rejects requests
// whose X-Dialtone-Signature is missing, wrong or more than 5 minutes off
// (HTTP 401); a header with several v1 values, as Dialtone sends while it
// rotates a secret, is accepted when any of them matches (see
// VerifySignature). It answers {"code":0,"msg":"接收成功"} when handler returns
// nil, and HTTP 500 with {"code":1,...} when it fails, so that Dialtone
// pushes the batch again later. Each Receipt's Type is inferred from its
// receipt_id or its fields.
func PushHandler(secret string, handler func(ctx context.Context, rs []Receipt) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(status, code int, msg string) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.Encode(map[string]any{"code": code, "msg": msg})
		}
		if r.Method != http.MethodPost {
			answer(http.StatusMethodNotAllowed, 405, "POST a JSON array")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
		if err != nil {
			answer(http.StatusRequestEntityTooLarge, 413, "body too large")
			return
		}
		if secret != "" {
			if msg := verifyPush(secret, r.Header.Get(PushSignatureHeader), body, time.Now()); msg != "" {
				answer(http.StatusUnauthorized, 401, msg)
				return
			}
		}
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			answer(http.StatusBadRequest, 400, "the body is not a JSON array")
			return
		}
		rs := make([]Receipt, len(items))
		for i, it := range items {
			rs[i] = decodeReceipt(it, "")
		}
		if err := handler(r.Context(), rs); err != nil {
			answer(http.StatusInternalServerError, 1, "handler failed: "+err.Error())
			return
		}
		answer(http.StatusOK, 0, "接收成功")
	})
}

// SignPush returns the PushSignatureHeader value of body at t (for tests
// and for relays that re-sign).
func SignPush(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + pushMAC(secret, ts, body)
}

func pushMAC(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifySignature, matched with errors.Is.
var (
	ErrSignatureMissing   = errors.New("missing " + PushSignatureHeader)
	ErrSignatureMalformed = errors.New("malformed " + PushSignatureHeader)
	ErrSignatureMismatch  = errors.New("signature mismatch")
	ErrSignatureExpired   = errors.New("signature timestamp outside the tolerance")
)

// maxSignatures bounds the v1 values read from one header (Dialtone sends
// two at most, during a secret's rotation).
const maxSignatures = 8

// VerifySignature checks an X-Dialtone-Signature value as a receiver
// should: one of its v1 values is the HMAC-SHA256 of "<t>.<body>" with
// secret, compared in constant time, and t is within tolerance of now
// (PushTolerance when tolerance is zero or less). While Dialtone rotates a
// secret its requests carry one v1 per secret (t=…,v1=<new>,v1=<old>), so
// a receiver holding either secret accepts them. body is the request body
// exactly as received. The error wraps one of the ErrSignature… values.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return ErrSignatureMissing
	}
	var ts string
	var sigs [][]byte
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if seenT {
				return fmt.Errorf("%w: t given twice", ErrSignatureMalformed)
			}
			ts, seenT = v, true
		case "v1":
			if len(sigs) == maxSignatures {
				return fmt.Errorf("%w: more than %d v1 values", ErrSignatureMalformed, maxSignatures)
			}
			if v != "" {
				sigs = append(sigs, []byte(v))
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 || strings.HasPrefix(ts, "+") {
		return fmt.Errorf("%w: t must be unix seconds", ErrSignatureMalformed)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1 value", ErrSignatureMalformed)
	}
	want := []byte(pushMAC(secret, ts, body))
	match := false
	for _, s := range sigs {
		// Every value is compared: the time taken does not say which
		// one matched.
		if hmac.Equal(want, s) {
			match = true
		}
	}
	if secret == "" || !match {
		return ErrSignatureMismatch
	}
	if tolerance <= 0 {
		tolerance = PushTolerance
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w (%s)", ErrSignatureExpired, tolerance)
	}
	return nil
}

// verifyPush returns "" when header signs body, else the reason.
func verifyPush(secret, header string, body []byte, now time.Time) string {
	err := VerifySignature(secret, header, body, now, PushTolerance)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrSignatureMissing), errors.Is(err, ErrSignatureMismatch):
		return err.Error()
	case errors.Is(err, ErrSignatureMalformed):
		return ErrSignatureMalformed.Error()
	}
	return "signature timestamp outside the 5-minute tolerance"
}

// verifyAny returns "" when header signs body with any of secrets, else
// the reason of the first.
func verifyAny(secrets []string, header string, body []byte, now time.Time) string {
	first := ""
	for _, k := range secrets {
		msg := verifyPush(k, header, body, now)
		if msg == "" {
			return ""
		}
		if first == "" {
			first = msg
		}
	}
	return first
}
