package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rampart-edge/rampart/internal/app"
	"github.com/rampart-edge/rampart/internal/config"
	"github.com/rampart-edge/rampart/internal/token"
)

// The addresses the demo asks for first; a taken one falls back to a free
// port on 127.0.0.1.
const (
	EdgeAddr  = "127.0.0.1:8080"
	AdminAddr = "127.0.0.1:9090"
)

// Options configure Run.
type Options struct {
	// For stops the demo by itself after this long; 0 runs until ctx is
	// done.
	For time.Duration
	// Out receives the addresses and the commands to try (stdout).
	Out io.Writer
	// Logger receives rampart's own log lines; nil discards them.
	Logger *slog.Logger
	// EdgeAddr and AdminAddr override the preferred listener addresses.
	EdgeAddr, AdminAddr string
}

// Info is what a running demo tells its caller.
type Info struct {
	Origin, Edge, Admin string // base URLs
	DataDir             string
	Token               string // read-scope admin API token ("" if none)
	// Dashboard is the dashboard's address and SignIn the
	// compliance-scope token to sign in with.
	Dashboard, SignIn string
	// Seeded names what the demo put on the desk (see seed).
	Seeded Seeded
}

// Run starts the sample origin on a free port of 127.0.0.1, a rampart edge
// in front of it (zones www.example.org with alias example.org, and
// localhost) with its admin listener, in a temporary data directory that
// is removed on return, creates a read-scope admin token, prints the
// addresses and commands to try to opts.Out, and serves until ctx is done
// or opts.For has passed. ready, when not nil, receives the Info once
// everything listens.
func Run(ctx context.Context, opts Options, ready func(Info)) (err error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.EdgeAddr == "" {
		opts.EdgeAddr = EdgeAddr
	}
	if opts.AdminAddr == "" {
		opts.AdminAddr = AdminAddr
	}

	dataDir, err := os.MkdirTemp("", "rampart-demo-")
	if err != nil {
		return fmt.Errorf("creating the demo data directory: %w", err)
	}
	defer os.RemoveAll(dataDir)

	// The sample origin.
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the demo origin: %w", err)
	}
	origin := &http.Server{Handler: Origin(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = origin.Serve(oln) }()
	defer origin.Close()
	originURL := "http://" + oln.Addr().String()

	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Log.Path = filepath.Join(dataDir, "access.log")
	cfg.Zones = []config.Zone{
		{Host: "www.example.org", Aliases: []string{"example.org"}, Origins: []string{originURL}},
		{Host: "localhost", Origins: []string{originURL}},
	}
	if len(cfg.Compliance.EmbargoedRegions) == 0 {
		cfg.Compliance.EmbargoedRegions = []string{"CU", "IR", "KP", "SY"}
	}
	for i := range cfg.Zones {
		cfg.Zones[i].SetDefaults()
	}
	cfg.Timeouts.Shutdown = 5 * time.Second
	cfg.Listen.HTTP = freeOr(opts.EdgeAddr)
	cfg.Listen.Admin = freeOr(opts.AdminAddr)

	tokens, err := token.OpenFile(dataDir)
	if err != nil {
		return err
	}
	plaintext, _, err := tokens.Create(token.Read, "rampart demo")
	if err != nil {
		return fmt.Errorf("creating the demo token: %w", err)
	}
	signIn, _, err := tokens.Create(token.Compliance, "rampart demo: dashboard sign-in")
	if err != nil {
		return fmt.Errorf("creating the demo token: %w", err)
	}
	adminTok, _, err := tokens.Create(token.Admin, "rampart demo: seeding")
	if err != nil {
		return fmt.Errorf("creating the demo token: %w", err)
	}

	a, err := app.New(cfg, app.Options{Logger: log, Tokens: tokens})
	if errors.Is(err, syscall.EADDRINUSE) {
		// Another process took a port between the probe and the bind.
		cfg.Listen.HTTP, cfg.Listen.Admin = "127.0.0.1:0", "127.0.0.1:0"
		a, err = app.New(cfg, app.Options{Logger: log, Tokens: tokens})
	}
	if err != nil {
		return err
	}
	addrs := a.Addrs()
	info := Info{
		Origin:    originURL,
		Edge:      "http://" + addrs.HTTP,
		Admin:     "http://" + addrs.Admin,
		DataDir:   dataDir,
		Token:     plaintext,
		Dashboard: "http://" + addrs.Admin + "/dashboard/",
		SignIn:    signIn,
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.For > 0 {
		runCtx, cancel = context.WithTimeout(runCtx, opts.For)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	// Seed the desk through the admin API, as a user would.
	info.Seeded, err = seed(runCtx, info, adminTok, originURL)
	if err != nil {
		cancel()
		<-done
		return fmt.Errorf("seeding the demo: %w", err)
	}
	printInfo(opts.Out, info, opts.For)
	if ready != nil {
		ready(info)
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(opts.Out, "rampart demo stopped; data directory removed.")
	return nil
}

// freeOr returns addr when it can be bound now, else a free port on
// 127.0.0.1 (found by binding port 0 and releasing it).
func freeOr(addr string) string {
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		return addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return addr // let app.New report the error
	}
	defer ln.Close()
	return ln.Addr().String()
}

func printInfo(w io.Writer, in Info, d time.Duration) {
	stop := "press Ctrl-C to stop"
	if d > 0 {
		stop = fmt.Sprintf("stops by itself after %s", d)
	}
	edgeHost := in.Edge[len("http://"):]
	_, port, _ := net.SplitHostPort(edgeHost)
	fmt.Fprintf(w, `rampart demo is running (%s)

  dashboard      %s
  sign in with   %s   (compliance scope)
                 accounts: Plain Bakery Ltd (clean), Bank Maskan (held in review), Northwind Imports (blocked);
                 zone %s is under a public report (case %s)

  sample origin  %s
  edge           %s   zones: www.example.org (alias example.org), localhost
  admin API      %s
  data dir       %s (removed on exit; access log in access.log)
  read token     %s

Try:
  # a proxied page: note the Rampart-Request-Id and Rampart-Cache headers
  curl -si -H 'Host: www.example.org' %s/

  # the JSON endpoint through the alias, showing the forwarding headers the edge adds
  curl -s -H 'Host: example.org' %s/api/info

  # the localhost zone needs no Host header
  curl -si http://localhost:%s/api/info

  # an unknown host: 421 Misdirected Request, no origin contacted
  curl -si -H 'Host: unknown.example' %s/

  # screen a name against the bundled sanctions lists (read-scope token)
  curl -s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \
       -d '{"name": "Hamas", "kind": "organization"}' %s/v1/screen

  # metrics and health
  curl -s %s/metrics | grep '^rampart_'
  curl -s %s/healthz

`, stop, in.Dashboard, in.SignIn, in.Seeded.ReportedHost, in.Seeded.CaseID, in.Origin, in.Edge, in.Admin, in.DataDir, in.Token,
		in.Edge, in.Edge, port, in.Edge, in.Token, in.Admin, in.Admin, in.Admin)
}
