package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// childEnv makes the test binary a child that starts both servers, prints
// where they are, and then ends the way the variable says (see
// serviceChild).
const childEnv = "RAMPART_TESTENV_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		serviceChild(mode)
	}
	// This package's tests check the ephemeral servers themselves, so an
	// existing server named in the environment is not used here.
	os.Unsetenv(PostgresEnv)
	os.Unsetenv(RedisEnv)
	Main(m)
}

// serviceChild starts both servers, prints "pg PID DIR ADDR" and "redis
// PID DIR ADDR", then: "stop" stops them as Main does and exits, "exit"
// exits without stopping them, "kill" waits to be killed.
func serviceChild(mode string) {
	if mode == "share" {
		// A child re-executed with its parent's environment: it must use
		// the parent's servers, not start its own.
		pgURL, err1 := pgService.get(PostgresEnv, startPostgres)
		redisAddr, err2 := redisService.get(RedisEnv, startRedis)
		fmt.Printf("%s %s %v %v %v %v\n", pgURL, redisAddr, pgService.proc != nil, redisService.proc != nil, err1, err2)
		os.Exit(0)
	}
	pgURL, err := pgService.get(PostgresEnv, startPostgres)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	u, _ := url.Parse(pgURL)
	redisAddr, err := redisService.get(RedisEnv, startRedis)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("pg %d %s %s\n", pgService.proc.cmd.Process.Pid, pgService.proc.dir, u.Host)
	fmt.Printf("redis %d %s %s\n", redisService.proc.cmd.Process.Pid, redisService.proc.dir, redisAddr)
	switch mode {
	case "stop":
		StopServices()
		fmt.Println("stopped")
		os.Exit(0)
	case "exit":
		os.Exit(0)
	}
	fmt.Println("waiting")
	select {}
}

func pgConn(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestPostgres(t *testing.T) {
	ctx := context.Background()
	var schemas []string
	t.Run("fresh schemas", func(t *testing.T) {
		a, b := Postgres(t), Postgres(t)
		ca, cb := pgConn(t, a), pgConn(t, b)
		for _, c := range []*pgx.Conn{ca, cb} {
			var schema string
			var tables int
			if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(schema, "t_") || tables != 0 {
				t.Fatalf("schema %q with %d tables, want a fresh empty t_... schema", schema, tables)
			}
			schemas = append(schemas, schema)
		}
		if schemas[0] == schemas[1] {
			t.Fatalf("two calls handed out the same schema %s", schemas[0])
		}
		if _, err := ca.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
			t.Fatal(err)
		}
		if _, err := cb.Exec(ctx, "SELECT * FROM only_in_a"); err == nil {
			t.Fatal("a table of one schema is visible through the other's URL")
		}
	})
	base := os.Getenv(PostgresEnv)
	if base == "" || pgService.proc == nil {
		t.Fatalf("Postgres did not start an ephemeral server and export it in %s (got %q)", PostgresEnv, base)
	}
	c := pgConn(t, base)
	t.Run("schemas dropped after the test", func(t *testing.T) {
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1)", schemas).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d of the schemas %v still exist", n, schemas)
		}
	})
	t.Run("server settings", func(t *testing.T) {
		want := map[string]string{"listen_addresses": "127.0.0.1", "fsync": "off", "unix_socket_directories": pgService.proc.dir,
			"data_directory": filepath.Join(pgService.proc.dir, "data")}
		for k, v := range want {
			var got string
			if err := c.QueryRow(ctx, "SHOW "+k).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if want := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-pg-", dirPrefix, os.Getpid())); !strings.HasPrefix(pgService.proc.dir, want) {
			t.Errorf("cluster folder %s, want %s...", pgService.proc.dir, want)
		}
		var db, user string
		if err := c.QueryRow(ctx, "SELECT current_database(), current_user").Scan(&db, &user); err != nil || db != "test" || user != "postgres" {
			t.Errorf("database %q user %q (%v), want test and postgres", db, user, err)
		}
	})
}

func TestRedis(t *testing.T) {
	addr := Redis(t)
	if again := Redis(t); again != addr {
		t.Fatalf("second call gave %s, first %s: want one server per process", again, addr)
	}
	if os.Getenv(RedisEnv) != addr || redisService.proc == nil {
		t.Fatalf("Redis did not start an ephemeral server and export it in %s", RedisEnv)
	}
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Fatalf("address %s, want 127.0.0.1", addr)
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "testenv:k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "testenv:k").Result(); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	for k, want := range map[string]string{"save": "", "appendonly": "no", "bind": "127.0.0.1", "dir": redisService.proc.dir} {
		got, err := c.ConfigGet(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got[k] != want {
			t.Errorf("CONFIG GET %s = %q, want %q", k, got[k], want)
		}
	}
}

// TestChildSharesServers re-executes the test binary the way the crash
// tests do (the parent's environment): the child finds the parent's
// servers in the environment and starts none of its own.
func TestChildSharesServers(t *testing.T) {
	Postgres(t)
	want := fmt.Sprintf("%s %s false false <nil> <nil>", os.Getenv(PostgresEnv), Redis(t))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=share")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("child reported %q, want %q", got, want)
	}
}

// gone reports whether pid no longer runs (a zombie nobody reaps counts
// as gone: it serves nothing).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(after, "Z") || strings.HasPrefix(after, "X")
}

// TestServersEndWithTheProcess runs a child test binary that starts both
// servers and ends by StopServices (Main's way), by exiting without it,
// or by SIGKILL: in every case both servers must be gone within seconds;
// their folders are removed at once by StopServices, and otherwise by the
// next run's sweep.
func TestServersEndWithTheProcess(t *testing.T) {
	for _, mode := range []string{"stop", "exit", "kill"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, PostgresEnv+"=") && !strings.HasPrefix(kv, RedisEnv+"=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, childEnv+"="+mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			type server struct {
				pid       int
				dir, addr string
			}
			servers := map[string]server{}
			lines := make(chan string)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			timeout := time.After(2 * startTimeout)
		read:
			for {
				select {
				case line, ok := <-lines:
					if !ok {
						break read
					}
					f := strings.Fields(line)
					if len(f) == 4 {
						pid, _ := strconv.Atoi(f[1])
						servers[f[0]] = server{pid, f[2], f[3]}
					}
					if line == "waiting" {
						_ = cmd.Process.Signal(syscall.SIGKILL)
					}
				case <-timeout:
					_ = cmd.Process.Kill()
					t.Fatalf("child did not finish: %s", stderr.String())
				}
			}
			werr := cmd.Wait()
			if mode == "kill" {
				var ee *exec.ExitError
				if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("child: %v, want killed", werr)
				}
			} else if werr != nil {
				t.Fatalf("child: %v: %s", werr, stderr.String())
			}
			if len(servers) != 2 {
				t.Fatalf("child reported %v: %s", servers, stderr.String())
			}
			deadline := time.Now().Add(20 * time.Second)
			for name, s := range servers {
				for !gone(s.pid) {
					if time.Now().After(deadline) {
						t.Fatalf("%s (pid %d) still runs after its test process ended (%s)", name, s.pid, mode)
					}
					time.Sleep(50 * time.Millisecond)
				}
				if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
					c.Close()
					t.Fatalf("%s still accepts connections on %s", name, s.addr)
				}
				_, err := os.Stat(s.dir)
				if mode == "stop" && !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s folder %s not removed by StopServices: %v", name, s.dir, err)
				}
				if mode != "stop" && err != nil {
					t.Fatalf("%s folder %s: %v, want it left for the sweep", name, s.dir, err)
				}
			}
			if mode != "stop" {
				sweepStale(os.TempDir())
				for name, s := range servers {
					if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
						t.Fatalf("%s folder %s of a dead process not swept: %v", name, s.dir, err)
					}
				}
			}
		})
	}
}

func TestSweepStale(t *testing.T) {
	tmp := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := dead.ProcessState.Pid()
	cases := []struct {
		name string
		keep bool
	}{
		{fmt.Sprintf("%s%d-pg-1", dirPrefix, deadPid), false},
		{fmt.Sprintf("%s%d-redis-1", dirPrefix, deadPid), false},
		{fmt.Sprintf("%s%d-pg-1", dirPrefix, os.Getpid()), true},
		{fmt.Sprintf("%s%d-pg-1", dirPrefix, os.Getppid()), true},
		{dirPrefix + "notapid-pg-1", true},
		{fmt.Sprintf("other-%d-pg-1", deadPid), true},
	}
	for _, c := range cases {
		if err := os.Mkdir(filepath.Join(tmp, c.name), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sweepStale(tmp)
	for _, c := range cases {
		_, err := os.Stat(filepath.Join(tmp, c.name))
		if kept := err == nil; kept != c.keep {
			t.Errorf("%s: kept %v, want %v", c.name, kept, c.keep)
		}
	}
}

func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	exe := func(p string) string {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	glob := filepath.Join(root, "lib", "postgresql", "*", "bin")
	for _, v := range []string{"9", "13", "16"} {
		exe(filepath.Join(root, "lib", "postgresql", v, "bin", "initdb"))
		exe(filepath.Join(root, "lib", "postgresql", v, "bin", "postgres"))
	}
	exe(filepath.Join(root, "lib", "postgresql", "17", "bin", "initdb")) // no postgres: skipped
	linked := filepath.Join(root, "linked")
	if err := os.MkdirAll(linked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "lib", "postgresql", "13", "bin", "initdb"), filepath.Join(linked, "initdb")); err != nil {
		t.Fatal(err)
	}
	lonely := filepath.Dir(exe(filepath.Join(root, "lonely", "initdb")))
	redisDir := filepath.Dir(exe(filepath.Join(root, "redis", "redis-server")))
	notExec := filepath.Join(root, "noexec")
	if err := os.MkdirAll(notExec, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notExec, "redis-server"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	pgCases := []struct {
		name     string
		path     []string
		glob     string
		wantDir  string
		wantErrs []string
	}{
		{"newest Debian version", nil, glob, filepath.Join(root, "lib", "postgresql", "16", "bin"), nil},
		{"PATH first, postgres next to the symlink's target", []string{linked}, glob, filepath.Join(root, "lib", "postgresql", "13", "bin"), nil},
		{"initdb without postgres on PATH", []string{lonely}, glob, filepath.Join(root, "lib", "postgresql", "16", "bin"), nil},
		{"none", []string{lonely}, filepath.Join(root, "none", "*", "bin"), "",
			[]string{"initdb", "Debian package postgresql", "apt-get install postgresql", PostgresEnv}},
	}
	for _, c := range pgCases {
		t.Run(c.name, func(t *testing.T) {
			initdb, pg, err := postgresBinaries(c.path, c.glob)
			if c.wantErrs != nil {
				if err == nil {
					t.Fatalf("found %s %s, want an error", initdb, pg)
				}
				for _, w := range c.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil || initdb != filepath.Join(c.wantDir, "initdb") || pg != filepath.Join(c.wantDir, "postgres") {
				t.Fatalf("got %s %s %v, want both in %s", initdb, pg, err, c.wantDir)
			}
		})
	}
	redisCases := []struct {
		name    string
		path    []string
		want    string
		wantErr bool
	}{
		{"on PATH", []string{notExec, redisDir}, filepath.Join(redisDir, "redis-server"), false},
		{"missing", []string{notExec, lonely}, "", true},
	}
	for _, c := range redisCases {
		t.Run("redis "+c.name, func(t *testing.T) {
			got, err := redisBinary(c.path)
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), "Debian package redis-server") || !strings.Contains(err.Error(), RedisEnv) {
					t.Fatalf("got %q, %v; want an error naming the package and %s", got, err, RedisEnv)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %s", got, err, c.want)
			}
		})
	}
}
