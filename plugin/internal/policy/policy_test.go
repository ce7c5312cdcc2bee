package policy

import (
	"context"
	"fmt"
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
			name:    "undefined decision",
			files:   map[string]string{"authz.rego": "package docker.authz\nallow if input.Method == \"GET\"\n"},
			input:   `{"Method":"POST"}`,
			reason:  ReasonUndefined,
			message: "policy decision data.docker.authz.allow is undefined (is the policy in the right package, with a default?)",
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
			name:    "evaluation error",
			files:   map[string]string{"authz.rego": "package docker.authz\nallow := x if x := input.a\nallow := y if y := input.b\n"},
			input:   `{"a":true,"b":false}`,
			reason:  ReasonEvalError,
			message: "~policy evaluation failed: ",
		},
		{
			name:    "denied, deny evaluation error: generic message",
			files:   map[string]string{"authz.rego": "package docker.authz\ndefault allow := false\ndeny := x if x := input.a\ndeny := y if y := input.b\n"},
			input:   `{"a":["one"],"b":["two"]}`,
			reason:  ReasonDenied,
			message: "~request denied by policy (data.docker.authz.allow is false); deny messages unavailable: ",
		},
		{
			name:   "allowed, deny evaluation error: not evaluated",
			files:  map[string]string{"authz.rego": "package docker.authz\nallow := true\ndeny := x if x := input.a\ndeny := y if y := input.b\n"},
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
				"authz.rego":           "package docker.authz\nallow if { data.a.x == 1; data.docker.cfg.y == 2 }\ndefault allow := false\n",
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
				t.Fatalf("decision = allow %v, reason %s (%q); want allow %v, reason %s", d.Allow, d.Reason, d.Message(), tt.allow, tt.reason)
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

func TestCombinedQuery(t *testing.T) {
	for _, tt := range []struct{ query, deny, want string }{
		{DefaultQuery, DefaultDenyQuery, "authz_allow = data.docker.authz.allow; authz_deny = [authz_message | authz_allow != true; authz_message = data.docker.authz.deny]"},
		{"data.my.policy.decision", `data.my.policy["reasons"]`, "authz_allow = data.my.policy.decision; authz_deny = [authz_message | authz_allow != true; authz_message = data.my.policy.reasons]"},
		{"data.docker.authz.allow == true", DefaultDenyQuery, ""},
		{DefaultQuery, "data.docker.authz.deny[x]", ""},
		{DefaultQuery, "x := data.docker.authz.deny", ""},
		{DefaultQuery, "data.docker.authz.deny; true", ""},
		{DefaultQuery, "not data.docker.authz.deny", ""},
		{"input.allow", DefaultDenyQuery, ""},
		{DefaultQuery, "", ""},
	} {
		if got := combinedQuery(tt.query, tt.deny); got != tt.want {
			t.Errorf("combinedQuery(%q, %q) = %q, want %q", tt.query, tt.deny, got, tt.want)
		}
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

// TestReload walks through the life of a policy folder: every step must
// take effect at the next decision, without restart, and the policy must be
// compiled again only when content changed.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	e := newEngine(t, dir)
	get := value(t, `{"Method":"GET"}`)
	ctx := context.Background()
	file := filepath.Join(dir, "authz.rego")
	write := func(content string) {
		t.Helper()
		// A new file each time, as editors and cp do; the mtime may not
		// change within the clock's resolution, the inode and ctime do.
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	step := func(name string, allow bool, reason Reason, msg string, compiles int) {
		t.Helper()
		d := e.Decide(ctx, get)
		if d.Allow != allow || d.Reason != reason {
			t.Fatalf("%s: decision = allow %v, reason %s (%q); want allow %v, reason %s", name, d.Allow, d.Reason, d.Message(), allow, reason)
		}
		checkMessage(t, d, msg)
		if got := e.Compiles(); got != compiles {
			t.Errorf("%s: compiled %d times, want %d", name, got, compiles)
		}
	}

	step("empty folder", false, ReasonUnavailable, "~no .rego file", 1)
	write(basePolicy)
	step("policy written", true, ReasonAllowed, "", 2)
	step("unchanged", true, ReasonAllowed, "", 2)
	write("package docker.authz\n\nallow if {\n")
	step("broken edit", false, ReasonUnavailable, "~authz.rego:4: rego_parse_error", 3)
	step("still broken", false, ReasonUnavailable, "~rego_parse_error", 3)
	write(basePolicy)
	step("fixed", true, ReasonAllowed, "", 4)
	write(basePolicy) // same content, new file: no compile
	step("rewritten unchanged", true, ReasonAllowed, "", 4)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	step("removed", false, ReasonUnavailable, "~no .rego file", 5)
	write(basePolicy)
	step("restored", true, ReasonAllowed, "", 6)
	writeFiles(t, dir, map[string]string{"deny_get.rego": "package docker.authz\ndeny contains \"no GET (rule get)\" if input.Method == \"GET\"\n"})
	step("module added (allow still decides)", true, ReasonAllowed, "", 7)
	write(strings.Replace(basePolicy, `allow if input.Method == "GET"`, `allow if count(deny) == 0`, 1))
	step("allow follows deny", false, ReasonDenied, "no GET (rule get)", 8)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	step("folder removed", false, ReasonUnavailable, "~policy folder", 8)
	writeFiles(t, dir, map[string]string{"authz.rego": basePolicy})
	step("folder back", true, ReasonAllowed, "", 9)
}

func TestRecheckInterval(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"authz.rego": basePolicy})
	e := newEngine(t, dir, func(c *Config) { c.Recheck = time.Hour })
	get := value(t, `{"Method":"GET"}`)
	if d := e.Decide(context.Background(), get); !d.Allow {
		t.Fatalf("decision = %+v, want allow", d)
	}
	if err := os.Remove(filepath.Join(dir, "authz.rego")); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(context.Background(), get); !d.Allow {
		t.Fatalf("decision within the recheck interval = %+v, want the cached allow", d)
	}
}

// TestConcurrentDecisionsDuringReload decides from several goroutines while
// the policy is rewritten, broken and fixed: every decision is one of the
// states' (run with -race to check the locking).
func TestConcurrentDecisionsDuringReload(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"authz.rego": basePolicy})
	e := newEngine(t, dir)
	get := value(t, `{"Method":"GET"}`)
	stop := make(chan struct{})
	errs := make(chan string, 100)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d := e.Decide(context.Background(), get)
				if !d.Allow && d.Reason != ReasonUnavailable {
					errs <- fmt.Sprintf("unexpected decision %+v", d)
					return
				}
			}
		}()
	}
	for i := range 20 {
		content := basePolicy
		if i%2 == 1 {
			content = "package docker.authz\nallow if {\n"
		}
		writeFiles(t, dir, map[string]string{"authz.rego": content})
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	for range 4 {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSameSignatureRewrite rewrites a file in place with content of the
// same size and puts its times back: the stat signature cannot see the
// change, the content check of a recently modified file does.
func TestSameSignatureRewrite(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "authz.rego")
	allowAll := "package docker.authz\nallow := true \n"
	denyAll := "package docker.authz\nallow := false\n"
	writeFiles(t, dir, map[string]string{"authz.rego": allowAll})
	e := newEngine(t, dir)
	get := value(t, `{"Method":"GET"}`)
	if d := e.Decide(context.Background(), get); !d.Allow {
		t.Fatalf("decision = %+v, want allow", d)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(denyAll), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(file, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(context.Background(), get); d.Allow {
		t.Fatalf("decision after an in-place rewrite = %+v, want refusal", d)
	}
}
