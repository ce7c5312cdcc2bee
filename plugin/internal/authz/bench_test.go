package authz

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchPolicy is the project's policy (policies/ at the repository's root)
// when it is there, or the module's stand-in; POLICY_DIR overrides both.
func benchPolicy(t testing.TB) string {
	if dir := os.Getenv("POLICY_DIR"); dir != "" {
		return dir
	}
	project := filepath.Join("..", "..", "..", "policies")
	if matches, _ := filepath.Glob(filepath.Join(project, "*.rego")); len(matches) > 0 {
		return project
	}
	return testPolicy
}

// createRequest is what the daemon sends for a typical
// `docker run -u 1000 ...`: the CLI's create body, forwarded as is.
func createRequest(t testing.TB) []byte {
	return encode(t, Request{
		RequestMethod: "POST",
		RequestURI:    "/v1.41/containers/create?name=web",
		RequestHeaders: map[string]string{
			"Content-Type": "application/json",
			"User-Agent":   "Docker-Client/20.10.24+dfsg1 (linux)",
		},
		RequestBody: readTestdata(t, "create-request.json"),
	})
}

// BenchmarkContainersCreate measures one decision on a typical
// containers/create request through the plugin's HTTP handler (decode,
// input, policy check for changes, evaluation, answer), without transport.
func BenchmarkContainersCreate(b *testing.B) {
	s := newServer(b, benchPolicy(b), io.Discard)
	h := s.Handler()
	body := createRequest(b)
	if _, out := post(b, h, PathRequest, body); out == nil {
		b.Fatal("no answer")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		post(b, h, PathRequest, body)
	}
}

// BenchmarkDecide measures input building and evaluation alone.
func BenchmarkDecide(b *testing.B) {
	s := newServer(b, benchPolicy(b), nil)
	var req Request
	req.RequestMethod = "POST"
	req.RequestURI = "/v1.41/containers/create?name=web"
	req.RequestBody = readTestdata(b, "create-request.json")
	ctx := context.Background()
	s.Decide(ctx, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Decide(ctx, req)
	}
}

// TestLatencyReport prints percentiles of the decision latency for a
// typical containers/create, as the daemon sees it (over the unix socket)
// and inside the plugin. It asserts nothing; it runs only when
// LATENCY_REPORT is set (see bench.sh). LATENCY_N sets the sample size.
func TestLatencyReport(t *testing.T) {
	if os.Getenv("LATENCY_REPORT") == "" {
		t.Skip("set LATENCY_REPORT=1 to run (bench.sh does)")
	}
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("LATENCY_N")); err == nil && v > 0 {
		n = v
	}
	if os.Getenv("GOGC") == "" { // as the plugin runs
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	dir := benchPolicy(t)
	s := newServer(t, dir, io.Discard)
	body := createRequest(t)

	socket := filepath.Join(t.TempDir(), "opa-authz.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	overSocket := func() {
		res, err := client.Post("http://plugin"+PathRequest, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	h := s.Handler()
	inProcess := func() { post(t, h, PathRequest, body) }

	_, first := post(t, h, PathRequest, body)
	t.Logf("policy: %s (first answer: Allow=%v %v)", dir, first["Allow"], first["Msg"])
	for _, m := range []struct {
		name string
		fn   func()
	}{
		{"over the unix socket", overSocket},
		{"in the handler", inProcess},
	} {
		for i := 0; i < 200; i++ { // warm up
			m.fn()
		}
		d := make([]time.Duration, n)
		for i := range d {
			start := time.Now()
			m.fn()
			d[i] = time.Since(start)
		}
		t.Log(summary("containers/create decision, "+m.name, d))
	}
}

func summary(name string, d []time.Duration) string {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	pct := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))] }
	return fmt.Sprintf("%s: n=%d p50=%v p90=%v p99=%v max=%v", name, len(d),
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
}
