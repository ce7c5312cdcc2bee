// Command opa-authz is a Docker authorization plugin that decides every
// API request with a Rego policy. It is compatible with opa-docker-authz:
// the same policy input, the same decision query. It refuses every request
// when the policy is missing, broken or gives no boolean decision.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"hardened-docker-host/plugin/internal/authz"
	"hardened-docker-host/plugin/internal/idle"
	"hardened-docker-host/plugin/internal/input"
	"hardened-docker-host/plugin/internal/policy"
)

// version is set at build time from the VERSION file.
var version = "dev"

// DefaultSocket is where the daemon looks for the plugin. Inside a managed
// plugin the path is the one config.json names under /run/docker/plugins.
const DefaultSocket = "/run/docker/plugins/opa-authz.sock"

type options struct {
	socket      string
	policyDir   string
	query       string
	denyQuery   string
	maxBody     int
	hostRoot    string
	evalTimeout time.Duration
	recheck     time.Duration
	releaseIdle time.Duration
	strict      bool
	quiet       bool
	showVersion bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("opa-authz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.socket, "socket", DefaultSocket, "unix socket to serve the plugin API on")
	fs.StringVar(&o.policyDir, "policy-dir", policy.DefaultDir,
		"folder of the policy: every .rego file and data.json under it is loaded")
	fs.StringVar(&o.query, "query", policy.DefaultQuery, "decision query: a request is allowed only when it gives true")
	fs.StringVar(&o.denyQuery, "deny-query", policy.DefaultDenyQuery,
		"query giving the messages of a refusal (empty: none)")
	fs.IntVar(&o.maxBody, "max-body-bytes", input.DefaultMaxBodyBytes,
		"largest request body parsed for the policy; a larger one is null")
	fs.StringVar(&o.hostRoot, "host-root", "",
		"folder where the host's root is mounted, to resolve bind sources through symlinks (empty: lexical only)")
	fs.DurationVar(&o.evalTimeout, "eval-timeout", 5*time.Second,
		"time limit of one decision; past it the request is refused")
	fs.DurationVar(&o.recheck, "recheck-interval", 0,
		"least time between two checks of the policy folder for changes (0: before every decision)")
	fs.BoolVar(&o.strict, "strict-builtin-errors", false,
		"refuse the request when a built-in function fails (default: the expression is undefined, as in opa eval)")
	fs.BoolVar(&o.quiet, "quiet", false, "do not write the decision log")
	fs.DurationVar(&o.releaseIdle, "release-idle", 2*time.Second,
		"give free memory back to the system after this long without requests (0: never)")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "opa-authz:", err)
		os.Exit(2)
	}
	if o.showVersion {
		fmt.Println(version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// The live heap is small (the compiled policy); collecting less often
	// keeps garbage collection out of the decision latency's tail.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if err := run(ctx, o, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "opa-authz:", err)
		os.Exit(1)
	}
}

// run serves the plugin until ctx is done.
func run(ctx context.Context, o options, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	engine, err := policy.New(policy.Config{
		Dir:                 o.policyDir,
		Query:               o.query,
		DenyQuery:           o.denyQuery,
		Recheck:             o.recheck,
		StrictBuiltinErrors: o.strict,
		Logger:              log,
	})
	if err != nil {
		return err
	}
	srv := &authz.Server{
		Engine:      engine,
		Input:       input.Options{MaxBodyBytes: o.maxBody, HostRoot: o.hostRoot},
		EvalTimeout: o.evalTimeout,
	}
	if !o.quiet {
		srv.DecisionLog = log
	}

	ln, err := listen(o.socket)
	if err != nil {
		return err
	}
	defer os.Remove(o.socket)

	handler := srv.Handler()
	if o.releaseIdle > 0 {
		r := idle.New(o.releaseIdle, debug.FreeOSMemory)
		handler = r.Wrap(handler)
		go r.Run(ctx)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()

	log.Info("opa-authz started", "version", version, "socket", o.socket, "policy_dir", o.policyDir,
		"query", o.query, "deny_query", o.denyQuery, "decision_log", !o.quiet)
	// Load now, so that a broken policy shows in the log at start.
	engine.Warm(ctx)
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("opa-authz stopped")
	return nil
}

// listen opens the unix socket, replacing a stale one left by a previous
// run, readable and writable by root only.
func listen(socket string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
