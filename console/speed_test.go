package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// The console must answer within 100 ms of server time with 100,000 calls
// stored. The calls are spread over the last day, as a busy account has
// them, and inserted through the store's ordinary (group-committed) path.

const speedCalls = 100_000

var statuses = []string{dialtone.StatusCompleted, dialtone.StatusCompleted, dialtone.StatusCompleted, dialtone.StatusBusy,
	dialtone.StatusNoAnswer, dialtone.StatusHungUpEarly, dialtone.StatusPoweredOff}

func fillCalls(t testing.TB, st *sqlite.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	const workers = 64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < speedCalls; i += workers {
				created := now.Add(-time.Duration(i) * 24 * time.Hour / speedCalls)
				code := statuses[i%len(statuses)]
				c := &dialtone.Call{
					ID: fmt.Sprintf("%012d^%010d", created.UnixMilli(), i), AccountUID: acctA, Kind: dialtone.KindTTS,
					ProdID: dialtone.ProdVoiceNotify, Callee: fmt.Sprintf("138%08d", i%5000), CalleeShowNumber: "057188880000",
					OutID: fmt.Sprintf("o%d", i), State: dialtone.CallEnded, StatusCode: code, CreatedAt: created,
				}
				if code == dialtone.StatusCompleted {
					c.A.Start, c.A.End, c.Duration = created.Add(3*time.Second), created.Add(20*time.Second), 17
				}
				if i%20000 == 0 {
					c.State, c.StatusCode = dialtone.CallAnswered, "" // a few live ones
				}
				if err := st.CreateCall(ctx, c, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

type speedFixture struct {
	handler http.Handler
	cookie  *http.Cookie
}

func newSpeedFixture(t testing.TB) *speedFixture {
	t.Helper()
	st := openStore(t)
	ctx := context.Background()
	now := time.Now()
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: acctA, Name: "busy", Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now, UpdatedAt: now}))
	must(t, putUser(ctx, st, "alice", acctA, "alice-pass"))
	start := time.Now()
	fillCalls(t, st, now)
	t.Logf("inserted %d calls in %v", speedCalls, time.Since(start).Round(time.Millisecond))
	c, err := console.New(console.Config{Store: st})
	must(t, err)
	// Sign in through the handler itself to get a session cookie.
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, httptest.NewRequest("GET", "/console/signin", nil))
	var pre *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "dialtone_console_signin" {
			pre = ck
		}
	}
	form := url.Values{"csrf": {pre.Value}, "username": {"alice"}, "password": {"alice-pass"}}
	req := httptest.NewRequest("POST", "/console/signin", stringsReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	rec = httptest.NewRecorder()
	c.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "dialtone_console" && ck.Value != "" {
			return &speedFixture{handler: c, cookie: ck}
		}
	}
	t.Fatalf("sign-in failed: %d", rec.Code)
	return nil
}

// serve runs one page request and returns its server time.
func (f *speedFixture) serve(t testing.TB, path string) time.Duration {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(f.cookie)
	rec := httptest.NewRecorder()
	start := time.Now()
	f.handler.ServeHTTP(rec, req)
	d := time.Since(start)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", path, rec.Code, rec.Body.String())
	}
	return d
}

var speedPages = []string{
	"/console/overview",
	"/console/calls",
	"/console/calls?status=200002",
	"/console/calls?kind=tts&from=" + time.Now().In(dialtone.ChinaTime).Format("2006-01-02"),
	"/console/calls?outid=o4242",
	"/console/calls?number=13800004242",
}

// BenchmarkPages100k measures page server time with 100,000 calls stored
// (the goal is under 100 ms a page): go test -run '^$' -bench Pages100k ./console/
// It is a benchmark, not a test, because timing assertions fail on loaded
// or instrumented (-race) machines for reasons unrelated to the code.
func BenchmarkPages100k(b *testing.B) {
	f := newSpeedFixture(b)
	for _, p := range speedPages {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				f.serve(b, p)
			}
		})
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
