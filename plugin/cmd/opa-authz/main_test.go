package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.socket != DefaultSocket || o.policyDir != "/opa/policies" || o.query != "data.docker.authz.allow" ||
		o.denyQuery != "data.docker.authz.deny" || o.quiet || o.maxBody != 1<<20 {
		t.Errorf("defaults = %+v", o)
	}
	o, err = parseFlags(
		strings.Fields("-quiet -query data.x.allow -deny-query= --policy-dir /p -recheck-interval 2s"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.quiet || o.query != "data.x.allow" || o.denyQuery != "" || o.policyDir != "/p" || o.recheck != 2*time.Second {
		t.Errorf("parsed = %+v", o)
	}
	if _, err := parseFlags([]string{"-nope"}, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("positional argument accepted")
	}
}

// TestServeOnSocket runs the plugin on a unix socket, as the daemon sees it.
func TestServeOnSocket(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	if err := os.MkdirAll(policies, 0o755); err != nil {
		t.Fatal(err)
	}
	rego := "package docker.authz\ndefault allow := false\nallow if input.Method == \"GET\"\n" +
		"deny contains \"only GET (rule get)\" if input.Method != \"GET\"\n"
	if err := os.WriteFile(filepath.Join(policies, "authz.rego"), []byte(rego), 0o644); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "run", "docker", "plugins", "opa-authz.sock")
	// A stale socket file from a previous run must not stop the start.
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(socket, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	o, err := parseFlags([]string{"-socket", socket, "-policy-dir", policies}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, &logs) }()

	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}, Timeout: 5 * time.Second}
	call := func(path, body string) map[string]any {
		t.Helper()
		var res *http.Response
		var err error
		for i := 0; i < 100; i++ { // wait for the socket
			res, err = client.Post("http://plugin"+path, "application/json", strings.NewReader(body))
			if err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	if out := call("/Plugin.Activate", ""); out["Implements"].([]any)[0] != "authz" {
		t.Errorf("Activate = %v", out)
	}
	if out := call("/AuthZPlugin.AuthZReq",
		`{"RequestMethod":"GET","RequestURI":"/v1.41/containers/json"}`); out["Allow"] != true {
		t.Errorf("GET = %v, want allow", out)
	}
	if out := call("/AuthZPlugin.AuthZReq",
		`{"RequestMethod":"DELETE","RequestURI":"/v1.41/containers/x"}`); out["Allow"] != false ||
		out["Msg"] != "only GET (rule get)" {
		t.Errorf("DELETE = %v, want refusal with the rule's message", out)
	}
	if fi, err := os.Stat(socket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v", fi, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := os.Stat(socket); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	for _, want := range []string{`"msg":"opa-authz started"`, `"msg":"policy loaded"`, `"decision":"deny"`,
		`"messages":["only GET (rule get)"]`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}
