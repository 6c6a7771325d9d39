package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The environment variables that point the tests at existing servers
// instead of ephemeral ones. Once this process has started an ephemeral
// server it sets the variable itself, so that a test binary it re-executes
// (the crash tests' children) uses the same server.
const (
	// PostgresEnv is the URL of a PostgreSQL database in which the tests
	// may create and drop schemas, e.g.
	// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	PostgresEnv = "RAMPART_TEST_POSTGRES"
	// RedisEnv is the host:port of a Redis server whose database 0 the
	// tests may write to.
	RedisEnv = "RAMPART_TEST_REDIS"
)

// startTimeout bounds how long one server may take to start (initdb
// included) on a busy machine.
const startTimeout = 90 * time.Second

// dirPrefix names the temporary folders of the servers this package
// starts: rampart-testenv-PID-..., so that a later run can remove the
// folders of a test process that was killed (see sweepStale).
const dirPrefix = "rampart-testenv-"

// Main runs the tests of m, stops the servers Postgres and Redis started,
// and exits with the tests' status. Call it from TestMain in every package
// whose tests use them:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Without it the servers still end with the test process (they get a
// signal when it exits, however it exits), but their folders stay in the
// temporary directory until the next run removes them.
func Main(m *testing.M) {
	code := m.Run()
	StopServices()
	os.Exit(code)
}

// StopServices stops the servers started by this process and removes
// their folders. Main calls it; the servers are not restarted after it.
func StopServices() {
	for _, s := range []*service{&pgService, &redisService} {
		s.mu.Lock()
		if s.proc != nil {
			s.proc.stop()
		}
		s.stopped = true
		s.mu.Unlock()
	}
}

// InterruptPostgres stops the ephemeral PostgreSQL server this process
// started (fast shutdown: every connection is cut), keeping its data, and
// returns the function that starts it again on the same port. It is for
// tests of what clients do while the database is away; the test fails
// when the server came from RAMPART_TEST_POSTGRES.
func InterruptPostgres(tb testing.TB) (restart func()) {
	tb.Helper()
	Postgres(tb)
	return pgService.interrupt(tb)
}

// InterruptRedis is InterruptPostgres for the Redis server (which keeps
// no data: it comes back empty).
func InterruptRedis(tb testing.TB) (restart func()) {
	tb.Helper()
	Redis(tb)
	return redisService.interrupt(tb)
}

func (s *service) interrupt(tb testing.TB) func() {
	tb.Helper()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || p.again == nil {
		tb.Fatal("testenv: the server was not started by this process; it cannot be interrupted")
	}
	_ = p.cmd.Process.Signal(p.stopSig)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return func() {
		tb.Helper()
		np, err := p.again()
		if err != nil {
			tb.Fatalf("testenv: restarting the server: %v", err)
		}
		s.mu.Lock()
		s.proc = np
		s.mu.Unlock()
	}
}

// service is one lazily started server, shared by the process's tests.
type service struct {
	mu      sync.Mutex
	started bool
	stopped bool
	addr    string // base URL (PostgreSQL) or host:port (Redis)
	err     error
	proc    *process // nil when the address came from the environment
}

func (s *service) get(env string, start func() (string, *process, error)) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return s.addr, s.err
	}
	if s.stopped {
		return "", errors.New("the test servers were stopped (testenv.StopServices)")
	}
	s.started = true
	if v := os.Getenv(env); v != "" {
		s.addr = v
		return v, nil
	}
	s.addr, s.proc, s.err = start()
	if s.err == nil {
		// Children re-executed by the tests use this server too.
		s.err = os.Setenv(env, s.addr)
	}
	return s.addr, s.err
}

var pgService, redisService service

// Postgres returns the URL of a fresh, empty PostgreSQL schema (the URL's
// search_path), dropped when tb ends. The schema lives in database "test"
// of an ephemeral cluster this process starts on first use: initdb in a
// temporary folder, trust authentication for user postgres, listening on
// 127.0.0.1 on a free port only, fsync off. With RAMPART_TEST_POSTGRES
// set, the schema is made in that database instead. The test fails (never
// skips) when no server can be had.
func Postgres(tb testing.TB) string {
	tb.Helper()
	base, err := pgService.get(PostgresEnv, startPostgres)
	if err != nil {
		tb.Fatalf("testenv: PostgreSQL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("testenv: PostgreSQL at %s is not reachable: %v", redactURL(base), err)
	}
	defer conn.Close(context.Background())
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("testenv: creating schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("testenv: dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("testenv: dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("testenv: %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns the host:port of a Redis server: one this process starts
// on first use (127.0.0.1, a free port, no persistence), or the one
// RAMPART_TEST_REDIS names. Tests share it; they keep apart by key
// prefix. The test fails (never skips) when no server can be had.
func Redis(tb testing.TB) string {
	tb.Helper()
	addr, err := redisService.get(RedisEnv, startRedis)
	if err != nil {
		tb.Fatalf("testenv: Redis: %v", err)
	}
	return addr
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// process is a server this package started.
type process struct {
	cmd      *exec.Cmd
	done     chan struct{} // closed when cmd has exited
	err      error         // cmd.Wait's result, set before done is closed
	dir      string        // removed by stop
	stopSig  syscall.Signal
	logFile  string
	stopOnce sync.Once
	// again starts the server anew on the same port and data (Interrupt).
	again func() (*process, error)
}

// start starts cmd so that it gets deathSig when this process ends,
// however it ends: PR_SET_PDEATHSIG fires when the thread that forked the
// child exits, so the child is started from a goroutine locked to its
// thread that never unlocks it and stays alive until the child is gone.
func start(cmd *exec.Cmd, deathSig syscall.Signal) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = deathSig
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the server to stop, kills it after 15 s, and removes its
// folder.
func (p *process) stop() {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(p.stopSig)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if p.dir != "" {
			_ = os.RemoveAll(p.dir)
		}
	})
}

// logTail is the end of the server's log, for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.logFile)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// serverDir makes the temporary folder of one server, owned by uid/gid
// (-1: the current user), after removing the folders of dead test
// processes.
func serverDir(kind string, uid, gid int) (string, error) {
	sweepStale(os.TempDir())
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-%s-", dirPrefix, os.Getpid(), kind))
	if err != nil {
		return "", err
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// sweepStale removes the folders left in tmp by test processes that no
// longer run (killed before Main could stop their servers; the servers
// themselves died with them).
func sweepStale(tmp string) {
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), dirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// A server that then fails to bind it is started again on another.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pgSearchDirs are where Debian's postgresql-NN packages put the server
// programs (not on PATH).
var pgSearchDirs = "/usr/lib/postgresql/*/bin"

// postgresBinaries finds initdb and postgres of one PostgreSQL version:
// initdb on PATH and postgres next to it (after symlinks), else the
// newest /usr/lib/postgresql/NN/bin holding both.
func postgresBinaries(pathDirs []string, debianGlob string) (initdb, postgres string, err error) {
	for _, d := range pathDirs {
		p := filepath.Join(d, "initdb")
		if !isExecutable(p) {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if pg := filepath.Join(filepath.Dir(p), "postgres"); isExecutable(pg) {
			return p, pg, nil
		}
	}
	dirs, _ := filepath.Glob(debianGlob)
	// Newest version first: /usr/lib/postgresql/NN/bin, NN numeric.
	version := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "postgres")
		if isExecutable(i) && isExecutable(p) {
			return i, p, nil
		}
	}
	return "", "", fmt.Errorf("the PostgreSQL server programs initdb and postgres are not on PATH nor in %s: install the Debian package postgresql (apt-get install postgresql), or set %s to the URL of an existing database", debianGlob, PostgresEnv)
}

// redisBinary finds redis-server on PATH.
func redisBinary(pathDirs []string) (string, error) {
	for _, d := range pathDirs {
		if p := filepath.Join(d, "redis-server"); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("redis-server is not on PATH: install the Debian package redis-server (apt-get install redis-server), or set %s to the host:port of an existing server", RedisEnv)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func pathDirs() []string { return filepath.SplitList(os.Getenv("PATH")) }

// serverUser is who runs PostgreSQL: initdb and postgres refuse to run as
// root, so as root they run as user postgres (or nobody). uid -1 means the
// current user.
func serverUser() (cred *syscall.Credential, uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return nil, -1, -1, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil {
			continue
		}
		// No supplementary groups: root's are not handed down.
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
	}
	return nil, 0, 0, errors.New("running as root and neither user postgres nor nobody exists to run PostgreSQL as (initdb refuses root)")
}

// pgEnv is the environment of initdb and postgres: this process's without
// the libpq variables, which could redirect them.
func pgEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// startPostgres makes a cluster in a temporary folder and starts it on a
// free 127.0.0.1 port, with database test, and returns that database's
// URL.
func startPostgres() (string, *process, error) {
	initdb, postgresBin, err := postgresBinaries(pathDirs(), pgSearchDirs)
	if err != nil {
		return "", nil, err
	}
	cred, uid, gid, err := serverUser()
	if err != nil {
		return "", nil, err
	}
	dir, err := serverDir("pg", uid, gid)
	if err != nil {
		return "", nil, err
	}
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, pgEnv(), &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("%s: %v: %s", initdb, err, strings.TrimSpace(out.String()))
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		p, err := startPostgresOn(postgresBin, dir, data, port, cred, true)
		if err == nil {
			return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable", port), p, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return "", nil, lastErr
}

func startPostgresOn(bin, dir, data string, port int, cred *syscall.Credential, create bool) (*process, error) {
	logFile := filepath.Join(dir, fmt.Sprintf("postgres-%d.log", port))
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, "-D", data,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB",
		"-c", "logging_collector=off",
	)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, pgEnv(), log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGQUIT is PostgreSQL's immediate shutdown: the postmaster stops its
	// backends and exits.
	p, err := start(cmd, syscall.SIGQUIT)
	if err != nil {
		return nil, err
	}
	p.stopSig, p.logFile = syscall.SIGINT, logFile // SIGINT: fast shutdown
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port)
	deadline := time.Now().Add(startTimeout)
	for {
		if p.exited() {
			return nil, fmt.Errorf("postgres exited on port %d (%v): %s", port, p.err, p.logTail())
		}
		if err := pgReady(admin, data); err == nil {
			break
		} else if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("postgres not ready on port %d after %s: %v: %s", port, startTimeout, err, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.again = func() (*process, error) { return startPostgresOn(bin, dir, data, port, cred, false) }
	if !create {
		p.dir = dir
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE DATABASE test")
		conn.Close(context.Background())
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("creating database test: %v", err)
	}
	p.dir = dir
	return p, nil
}

// pgReady connects to admin and checks that the server there is the one
// started on data (not another that took the port first).
func pgReady(admin, data string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var got string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&got); err != nil {
		return err
	}
	if got != data {
		return fmt.Errorf("another PostgreSQL (data directory %s) answers on this port", got)
	}
	return nil
}

// startRedis starts redis-server on a free 127.0.0.1 port without
// persistence and returns its address.
func startRedis() (string, *process, error) {
	bin, err := redisBinary(pathDirs())
	if err != nil {
		return "", nil, err
	}
	dir, err := serverDir("redis", -1, -1)
	if err != nil {
		return "", nil, err
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		p, err := startRedisOn(bin, dir, port)
		if err == nil {
			return fmt.Sprintf("127.0.0.1:%d", port), p, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return "", nil, lastErr
}

func startRedisOn(bin, dir string, port int) (*process, error) {
	logFile := filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))
	cmd := exec.Command(bin,
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--dir", dir,
		"--logfile", logFile,
	)
	cmd.Dir = dir
	p, err := start(cmd, syscall.SIGKILL)
	if err != nil {
		return nil, err
	}
	p.stopSig, p.logFile = syscall.SIGTERM, logFile
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		if p.exited() {
			return nil, fmt.Errorf("redis-server exited on port %d (%v): %s", port, p.err, p.logTail())
		}
		err := redisReady(c, p.cmd.Process.Pid)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("redis-server not ready on port %d after %s: %v: %s", port, startTimeout, err, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.dir = dir
	p.again = func() (*process, error) { return startRedisOn(bin, dir, port) }
	return p, nil
}

// redisReady checks that the server answering is the process pid.
func redisReady(c *redis.Client, pid int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if v != strconv.Itoa(pid) {
				return fmt.Errorf("another Redis (pid %s) answers on this port", v)
			}
			return nil
		}
	}
	return errors.New("INFO server has no process_id")
}
