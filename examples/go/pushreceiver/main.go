// Command pushreceiver receives Dialtone's HTTP batch push of receipts and
// checks each request's signature (X-Dialtone-Signature) before it trusts
// the body, with nothing but Go's standard library, so a receiver in any
// language can follow it. Set the subscription's push_url to it and its
// push_secret to SECRET (admin API, console or provisioning).
//
//	pushreceiver ADDR SECRET [COUNT]     e.g. 127.0.0.1:9999 s3cret 1
//
// It answers each verified push {"code": 0} and prints each receipt's
// JSON; after COUNT receipts (0: never) it exits.
package main

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
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

// maxSkew bounds how old a signed push may be: a captured push cannot be
// replayed later.
const maxSkew = 5 * time.Minute

// verify checks header "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>"
// against the body exactly as received. While Dialtone rotates a secret
// the header carries one v1 per secret (t=…,v1=<new>,v1=<old>): any
// match is enough.
func verify(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("no t= and v1= in X-Dialtone-Signature")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("signed %s ago: too old or from the future", d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.", ts)
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), []byte(want)) { // constant time
			return nil
		}
	}
	return errors.New("signature does not match")
}

func main() {
	addr, secret := local.Arg(1, ""), local.Arg(2, "")
	count, err := strconv.Atoi(local.Arg(3, "0"))
	if addr == "" || secret == "" || err != nil {
		local.Fail(errors.New("usage: pushreceiver ADDR SECRET [COUNT]"))
	}
	ctx, stop := context.WithCancel(context.Background())
	received := 0
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := verify(secret, r.Header.Get("X-Dialtone-Signature"), body, time.Now()); err != nil {
			fmt.Fprintln(os.Stderr, "refused a push:", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var receipts []json.RawMessage
		if err := json.Unmarshal(body, &receipts); err != nil {
			http.Error(w, "not a JSON array", http.StatusBadRequest)
			return
		}
		for _, rc := range receipts {
			fmt.Println(string(rc))
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code": 0, "msg": "ok"}`)
		if received += len(receipts); count > 0 && received >= count {
			stop()
		}
	})}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx) // lets the last push have its answer
	}()
	fmt.Fprintln(os.Stderr, "receiving pushes on http://"+addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		local.Fail(err)
	}
	<-stopped
}
