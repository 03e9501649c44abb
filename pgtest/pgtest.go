// Package pgtest gives tests a real PostgreSQL server: one throw-away
// cluster per test binary, started on first use, with a fresh database per
// test. A package that uses it runs its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.DB(t) // a new, empty database
//		...
//	}
//
// The cluster is made with the server binaries of the Debian package
// postgresql (initdb and postgres from PATH, else from
// /usr/lib/postgresql/<version>/bin), listens on 127.0.0.1 only, and lives
// in a temporary directory that Main removes. Missing binaries fail the test
// rather than skip it: CI installs the package (scripts/install-deps.sh),
// and a suite that silently skips its only real database would prove
// nothing.
//
// When DIALTONE_TEST_POSTGRES_DSN is set, no cluster is started: databases
// are created on that server instead, through the role the DSN names (which
// needs CREATEDB).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvDSN names the environment variable of an external server to use
// instead of a throw-away cluster.
const EnvDSN = "DIALTONE_TEST_POSTGRES_DSN"

// Package is the Debian package that provides the server binaries.
const Package = "postgresql"

// startTimeout bounds initdb plus server start-up; a slow CI machine under
// load needs several seconds for initdb alone.
const startTimeout = 60 * time.Second

var (
	mainRunning atomic.Bool
	once        sync.Once
	shared      *server
	startErr    error
	dbSeq       atomic.Int64
)

// server is the running cluster (or the external server).
type server struct {
	adminDSN string        // database "postgres" as superuser / the env DSN
	admin    *pgxpool.Pool // creates and drops the test databases
	cmd      *exec.Cmd     // nil for an external server
	exited   chan struct{} // closed when cmd has exited
	dir      string        // temp dir of the cluster ("" for external)
	logPath  string
}

// Main runs the package's tests and then stops the cluster, if a test
// started one, and removes its directory. It returns the exit code for
// os.Exit.
func Main(m *testing.M) int {
	mainRunning.Store(true)
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// DB creates a new, empty database on the shared server and returns a DSN
// for it; the database is dropped when the test ends (after the cleanups
// registered later, such as closing a store opened on it). It fails the
// test when no server can be had.
func DB(tb testing.TB) string {
	tb.Helper()
	if !mainRunning.Load() {
		tb.Fatal("pgtest: the package must run its tests through pgtest.Main (func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }), which stops the server")
	}
	once.Do(func() { shared, startErr = start() })
	if startErr != nil {
		tb.Fatalf("pgtest: %v", startErr)
	}
	// The PID keeps names apart when several test binaries (go test runs
	// packages in parallel) share an external server.
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := shared.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends sessions a failed test left open, so the drop
		// cannot hang or fail on them.
		if _, err := shared.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(shared.adminDSN, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// withDatabase returns dsn with its database replaced by name. Both DSN
// forms are accepted: URLs and keyword/value strings (where a later
// keyword overrides an earlier one).
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

func start() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		pool, err := connect(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvDSN, err)
		}
		return &server{adminDSN: dsn, admin: pool}, nil
	}
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	s, err := startCluster(ctx, bin)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// findBinaries returns the directory holding initdb and postgres. PATH
// comes first so that a chosen version (or a non-Debian install) wins; the
// Debian layout puts them outside PATH, in one directory per major
// version, of which the newest is taken.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Resolve symlinks: the postgres binary of the same version sits
		// next to the real initdb, not necessarily next to the link.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin: "+
		"install the Debian package %q (scripts/install-deps.sh does), or set %s to a server to use", Package, EnvDSN)
}

// version is the major version in /usr/lib/postgresql/<v>/bin (0 if none).
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// runAs returns the credential to run the server binaries with: initdb and
// postgres refuse to run as root, so a root test process hands them to
// the "postgres" account that the Debian package creates.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: no \"postgres\" OS user to run it as "+
			"(the Debian package %q creates it): %w", Package, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres user: gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func startCluster(ctx context.Context, bin string) (_ *server, err error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dialtone-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		// The data directory must belong to the user the server runs as.
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("chown %s: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "server.log")

	// trust is safe here: the server listens on loopback and on a socket
	// in a private directory, and holds nothing but test data.
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	// The port is picked by binding :0 and released before the server binds
	// it, so another process may take it in between: retry with a new one.
	var lastErr error
	for range 3 {
		s, err := launch(ctx, bin, dir, data, logPath, cred)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launch(ctx context.Context, bin, dir, data, logPath string, cred *syscall.Credential) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	// Durability is pointless for throw-away data and fsyncs are the
	// slowest part of a test server; the suites open hundreds of
	// databases and many concurrent connections.
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
		"-c", "shared_buffers=64MB",
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig (SIGINT: fast shutdown) stops the server if the test
	// binary dies without running Main's clean-up, e.g. on a test timeout
	// panic, so no stray server outlives the run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{
		adminDSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		cmd:      cmd, exited: make(chan struct{}), dir: dir, logPath: logPath,
	}
	go func() {
		_ = cmd.Wait() // the exit status is reported by the log, if at all
		close(s.exited)
	}()
	for {
		pool, err := connect(ctx, s.adminDSN)
		if err == nil {
			s.admin = pool
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("postgres exited during start-up: %w\n%s", err, tail(logPath))
		case <-ctx.Done():
			_ = s.kill()
			return nil, fmt.Errorf("postgres did not accept connections in %v: %w\n%s", startTimeout, err, tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// connect opens the admin pool and checks that the server answers.
func connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse DSN: %w", err)
	}
	cfg.MaxConns = 4
	// CREATE/DROP DATABASE cannot be prepared; the simple protocol also
	// avoids a statement cache for one-off statements.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// stop shuts the cluster down (fast shutdown: sessions are ended, nothing
// is waited for) and removes its directory.
func (s *server) stop() error {
	s.admin.Close()
	if s.cmd == nil {
		return nil
	}
	var errs []error
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		errs = append(errs, fmt.Errorf("stop postgres: %w", err))
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		errs = append(errs, fmt.Errorf("postgres did not stop in 30s, killed\n%s", tail(s.logPath)))
		_ = s.kill()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", s.dir, err))
	}
	return errors.Join(errs...)
}

// kill ends the server without a shutdown; the process group includes the
// backends it forked.
func (s *server) kill() error {
	err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	return err
}

// tail returns the end of the server log, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
