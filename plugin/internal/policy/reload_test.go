package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
			t.Fatalf("%s: decision = allow %v, reason %s (%q); want allow %v, reason %s",
				name, d.Allow, d.Reason, d.Message(), allow, reason)
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
	writeFiles(t, dir, map[string]string{
		"deny_get.rego": "package docker.authz\ndeny contains \"no GET (rule get)\" if input.Method == \"GET\"\n",
	})
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
