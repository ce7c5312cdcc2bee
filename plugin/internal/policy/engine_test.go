package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

const basePolicy = `package docker.authz

default allow := false

allow if input.Method == "GET"

deny contains "privileged containers are not allowed (rule privileged)" if {
	input.Body.HostConfig.Privileged
}

deny contains "containers must not run as root (rule user)" if {
	input.Body.User == "root"
}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func newEngine(t *testing.T, dir string, mod ...func(*Config)) *Engine {
	t.Helper()
	cfg := Config{Dir: dir, Query: DefaultQuery, DenyQuery: DefaultDenyQuery}
	for _, m := range mod {
		m(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func value(t *testing.T, js string) ast.Value {
	t.Helper()
	v, err := ast.ValueFromReader(strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		config  func(*Config)
		input   string
		allow   bool
		reason  Reason
		message string // the whole message, or a part of it after "~"
	}{
		{
			name:   "allowed",
			files:  map[string]string{"authz.rego": basePolicy},
			input:  `{"Method":"GET"}`,
			allow:  true,
			reason: ReasonAllowed,
		},
		{
			name:    "denied with one rule message",
			files:   map[string]string{"authz.rego": basePolicy},
			input:   `{"Method":"POST","Body":{"HostConfig":{"Privileged":true}}}`,
			reason:  ReasonDenied,
			message: "privileged containers are not allowed (rule privileged)",
		},
		{
			name:    "denied with every rule message, sorted",
			files:   map[string]string{"authz.rego": basePolicy},
			input:   `{"Method":"POST","Body":{"User":"root","HostConfig":{"Privileged":true}}}`,
			reason:  ReasonDenied,
			message: "containers must not run as root (rule user); privileged containers are not allowed (rule privileged)",
		},
		{
			// The project's rules take their id from # METADATA (custom.id) through rego.metadata.rule().
			name: "denied, the message names the rule id of the rule's annotations",
			files: map[string]string{"authz.rego": `package docker.authz

default allow := false

allow if count(deny) == 0

# METADATA
# custom:
#   id: privileged
deny contains msg if {
	input.Body.HostConfig.Privileged
	msg := sprintf("privileged containers are not allowed (rule %s)", [rego.metadata.rule().custom.id])
}
`},
			input:   `{"Method":"POST","Body":{"HostConfig":{"Privileged":true}}}`,
			reason:  ReasonDenied,
			message: "privileged containers are not allowed (rule privileged)",
		},
		{
			name:    "denied, no deny message: generic message",
			files:   map[string]string{"authz.rego": basePolicy},
			input:   `{"Method":"POST","Body":{}}`,
			reason:  ReasonDenied,
			message: "request denied by policy (data.docker.authz.allow is false)",
		},
		{
			name: "denied, policy without a deny set",
			files: map[string]string{"authz.rego": `package docker.authz
default allow := false
`},
			input:   `{}`,
			reason:  ReasonDenied,
			message: "request denied by policy (data.docker.authz.allow is false)",
		},
		{
			name:    "deny query disabled",
			files:   map[string]string{"authz.rego": basePolicy},
			config:  func(c *Config) { c.DenyQuery = "" },
			input:   `{"Method":"POST","Body":{"User":"root"}}`,
			reason:  ReasonDenied,
			message: "request denied by policy (data.docker.authz.allow is false)",
		},
		{
			name: "deny messages of other types",
			files: map[string]string{"authz.rego": `package docker.authz
default allow := false
deny contains {"rule": "x"} if true
deny contains "plain" if true
`},
			input:   `{}`,
			reason:  ReasonDenied,
			message: `plain; {"rule":"x"}`,
		},
		{
			name: "custom queries",
			files: map[string]string{"custom.rego": `package my.policy
decision := input.ok
reasons := ["not ok"] if not input.ok
`},
			config: func(c *Config) {
				c.Query = "data.my.policy.decision"
				c.DenyQuery = "data.my.policy.reasons"
			},
			input:   `{"ok":false}`,
			reason:  ReasonDenied,
			message: "not ok",
		},
		{
			name:   "undefined decision",
			files:  map[string]string{"authz.rego": "package docker.authz\nallow if input.Method == \"GET\"\n"},
			input:  `{"Method":"POST"}`,
			reason: ReasonUndefined,
			message: "policy decision data.docker.authz.allow is undefined " +
				"(is the policy in the right package, with a default?)",
		},
		{
			name:    "wrong package: undefined",
			files:   map[string]string{"authz.rego": "package docker.other\nallow := true\n"},
			input:   `{}`,
			reason:  ReasonUndefined,
			message: "~is undefined",
		},
		{
			name:    "non-boolean decision",
			files:   map[string]string{"authz.rego": "package docker.authz\nallow := \"yes\"\n"},
			input:   `{}`,
			reason:  ReasonNotBoolean,
			message: `policy decision data.docker.authz.allow is not a boolean: "yes"`,
		},
		{
			name: "evaluation error",
			files: map[string]string{
				"authz.rego": "package docker.authz\nallow := x if x := input.a\nallow := y if y := input.b\n",
			},
			input:   `{"a":true,"b":false}`,
			reason:  ReasonEvalError,
			message: "~policy evaluation failed: ",
		},
		{
			name: "denied, deny evaluation error: generic message",
			files: map[string]string{
				"authz.rego": "package docker.authz\ndefault allow := false\n" +
					"deny := x if x := input.a\ndeny := y if y := input.b\n",
			},
			input:   `{"a":["one"],"b":["two"]}`,
			reason:  ReasonDenied,
			message: "~request denied by policy (data.docker.authz.allow is false); deny messages unavailable: ",
		},
		{
			name: "allowed, deny evaluation error: not evaluated",
			files: map[string]string{
				"authz.rego": "package docker.authz\nallow := true\ndeny := x if x := input.a\ndeny := y if y := input.b\n",
			},
			input:  `{"a":["one"],"b":["two"]}`,
			allow:  true,
			reason: ReasonAllowed,
		},
		{
			name:    "deny query that is not a plain reference",
			files:   map[string]string{"authz.rego": basePolicy},
			config:  func(c *Config) { c.DenyQuery = "data.docker.authz.deny[_]" },
			input:   `{"Method":"POST","Body":{"User":"root","HostConfig":{"Privileged":true}}}`,
			reason:  ReasonDenied,
			message: "containers must not run as root (rule user); privileged containers are not allowed (rule privileged)",
		},
		{
			name:    "builtin error: undefined by default, as in opa eval",
			files:   map[string]string{"authz.rego": "package docker.authz\nallow := 1 / input.zero == 1\n"},
			input:   `{"zero":0}`,
			reason:  ReasonUndefined,
			message: "~is undefined",
		},
		{
			name:    "builtin error with strict builtin errors: evaluation error",
			files:   map[string]string{"authz.rego": "package docker.authz\nallow := 1 / input.zero == 1\n"},
			config:  func(c *Config) { c.StrictBuiltinErrors = true },
			input:   `{"zero":0}`,
			reason:  ReasonEvalError,
			message: "~divide by zero",
		},
		{
			name:    "empty folder",
			files:   map[string]string{"README": "nothing here"},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~no .rego file in ",
		},
		{
			name:    "parse error names file and line",
			files:   map[string]string{"authz.rego": "package docker.authz\n\nallow if {\n"},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~/authz.rego:4: rego_parse_error: unexpected eof token",
		},
		{
			name:    "compile error names file and line",
			files:   map[string]string{"authz.rego": "package docker.authz\n\nallow if undefined_function(1)\n"},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~/authz.rego:3: rego_type_error: undefined function undefined_function",
		},
		{
			name:    "rego v0 syntax does not compile",
			files:   map[string]string{"authz.rego": "package docker.authz\nallow { true }\n"},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~rego_parse_error",
		},
		{
			name: "data.json at the root and in a subfolder",
			files: map[string]string{
				"authz.rego": "package docker.authz\nallow if { data.a.x == 1; data.docker.cfg.y == 2 }\n" +
					"default allow := false\n",
				"data.json":            `{"a":{"x":1}}`,
				"docker/cfg/data.json": `{"y":2}`,
			},
			input:  `{}`,
			allow:  true,
			reason: ReasonAllowed,
		},
		{
			name: "other JSON files, hidden and test-data files are not loaded",
			files: map[string]string{
				"authz.rego":       "package docker.authz\ndefault allow := false\nallow if not data.other\n",
				"other.json":       `{"other":true}`,
				".#authz.rego":     "not rego",
				".hidden/bad.rego": "not rego",
				"notes.txt":        "not rego",
			},
			input:  `{}`,
			allow:  true,
			reason: ReasonAllowed,
		},
		{
			name: "invalid data.json",
			files: map[string]string{
				"authz.rego": basePolicy,
				"data.json":  `{"a":`,
			},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~data.json is not valid JSON",
		},
		{
			name: "conflicting data.json files",
			files: map[string]string{
				"authz.rego":       basePolicy,
				"data.json":        `{"docker":{"x":1}}`,
				"docker/data.json": `{"x":2}`,
			},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~conflicting values for data.docker.x",
		},
		{
			name: "data.json that is not an object",
			files: map[string]string{
				"authz.rego": basePolicy,
				"data.json":  `[1]`,
			},
			input:   `{}`,
			reason:  ReasonUnavailable,
			message: "~must hold a JSON object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			var mods []func(*Config)
			if tt.config != nil {
				mods = append(mods, tt.config)
			}
			e := newEngine(t, dir, mods...)
			d := e.Decide(context.Background(), value(t, tt.input))
			if d.Allow != tt.allow || d.Reason != tt.reason {
				t.Fatalf("decision = allow %v, reason %s (%q); want allow %v, reason %s",
					d.Allow, d.Reason, d.Message(), tt.allow, tt.reason)
			}
			checkMessage(t, d, tt.message)
		})
	}
}

func checkMessage(t *testing.T, d Decision, want string) {
	t.Helper()
	got := d.Message()
	if part, ok := strings.CutPrefix(want, "~"); ok {
		if !strings.Contains(got, part) {
			t.Errorf("message = %q, want it to contain %q", got, part)
		}
		return
	}
	if got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "policies")
	e := newEngine(t, dir)
	d := e.Decide(context.Background(), value(t, `{"Method":"GET"}`))
	if d.Allow || d.Reason != ReasonUnavailable {
		t.Fatalf("decision = %+v, want refusal", d)
	}
	checkMessage(t, d, "policy unavailable: policy folder "+dir+": no such file or directory")
}

func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"authz.rego": basePolicy})
	if err := os.Chmod(filepath.Join(dir, "authz.rego"), 0); err != nil {
		t.Fatal(err)
	}
	d := newEngine(t, dir).Decide(context.Background(), value(t, `{"Method":"GET"}`))
	if d.Allow {
		t.Fatal("allowed with an unreadable policy")
	}
	checkMessage(t, d, "~permission denied")
}

func TestDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"authz.rego": basePolicy})
	if err := os.Symlink("/nonexistent/extra.rego", filepath.Join(dir, "extra.rego")); err != nil {
		t.Fatal(err)
	}
	d := newEngine(t, dir).Decide(context.Background(), value(t, `{"Method":"GET"}`))
	if d.Allow || d.Reason != ReasonUnavailable {
		t.Fatalf("decision = %+v, want refusal", d)
	}
	checkMessage(t, d, "~extra.rego: no such file or directory")
}

func TestBadQueries(t *testing.T) {
	for _, cfg := range []Config{
		{Query: ""},
		{Query: "data.docker.authz.allow["},
		{Query: DefaultQuery, DenyQuery: "data..x"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}

func TestTimeout(t *testing.T) {
	dir := t.TempDir()
	// A rule that takes far longer than the deadline.
	writeFiles(t, dir, map[string]string{"authz.rego": `package docker.authz
allow if {
	n := numbers.range(1, 100000000)
	count([x | some x in n; x % 7 == 0]) > 0
}
`})
	e := newEngine(t, dir)
	e.Warm(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	d := e.Decide(ctx, value(t, `{}`))
	if d.Allow || d.Reason != ReasonEvalError {
		t.Fatalf("decision = %+v, want an evaluation error", d)
	}
	t.Logf("%v: %s", time.Since(start), d.Message())
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("decision took %v despite the deadline", el)
	}
}
