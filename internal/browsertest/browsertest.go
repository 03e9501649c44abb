// Package browsertest drives real headless Chromium for the tests of the
// web console (package console, and the black-box tests in test/): a
// browser per test with a fresh profile, steps with a timeout, and
// screenshots kept as artifacts.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Chromium; a machine without it fails the test with
// the Debian package to install, rather than skipping silently.
func ChromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: install the Debian package chromium (apt-get install chromium, or scripts/install-deps.sh)")
	return ""
}

// ArtifactDir is where screenshots go: $DIALTONE_ARTIFACTS/<name> when
// set, else a temporary directory of the test.
func ArtifactDir(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("DIALTONE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// NewBrowser starts headless Chromium with a fresh profile, stopped when
// the test ends. The flags keep it off the network: this machine's closed
// network refuses its background connections.
func NewBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// Start the browser on a context without a timeout (see chromedp.Run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// Session is one browser on one server.
type Session struct {
	T    *testing.T
	Ctx  context.Context
	Base string // the server's base URL, http://host:port
	Dir  string // where screenshots go
}

// New starts a browser for a server at base; screenshots go to the
// artifact directory name.
func New(t *testing.T, base, name string) *Session {
	t.Helper()
	return &Session{T: t, Ctx: NewBrowser(t), Base: base, Dir: ArtifactDir(t, name)}
}

// Do runs steps within 30 s; on failure it saves a screenshot and fails
// the test with the page's main element.
func (s *Session) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(s.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		// Bounded too: the page may have no main element at all.
		hctx, hcancel := context.WithTimeout(s.Ctx, 5*time.Second)
		html, _ := chromedp.Run(hctx, chromedp.OuterHTML("main"))
		hcancel()
		s.Shot("failed-" + what)
		s.T.Fatalf("%s: %v\npage: %.1500s", what, err, html)
	}
}

// Text returns the text of the element sel.
func (s *Session) Text(sel string) string {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(s.Ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		s.T.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// Eval evaluates a JavaScript expression returning a string.
func (s *Session) Eval(expr string) string {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(s.Ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		s.T.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// Shot saves a full-page PNG screenshot as a test artifact.
func (s *Session) Shot(name string) {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(s.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.T.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(s.Dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.T.Errorf("screenshot %s: %v", name, err)
	}
}

// SignIn signs in to the console.
func (s *Session) SignIn(user, pass string) {
	s.T.Helper()
	s.Do("sign in as "+user,
		chromedp.Navigate(s.Base+"/console/signin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", user),
		chromedp.SendKeys("#password", pass),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("nav"),
	)
}

// Poll waits until the expression is true.
func Poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr)(ctx, t)
		return err
	})
}

// Run evaluates a JavaScript statement as a step (its value is dropped).
func Run(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](js)(ctx, t)
		return err
	})
}
