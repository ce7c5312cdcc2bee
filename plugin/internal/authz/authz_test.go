package authz

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hardened-docker-host/plugin/internal/policy"
)

// testPolicy is the module's small stand-in policy.
var testPolicy = filepath.Join("..", "..", "testdata", "policy")

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newServer(t testing.TB, dir string, log io.Writer) *Server {
	t.Helper()
	e, err := policy.New(policy.Config{Dir: dir, Query: policy.DefaultQuery, DenyQuery: policy.DefaultDenyQuery})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Engine: e}
	if log != nil {
		s.DecisionLog = slog.New(slog.NewJSONHandler(log, nil))
	}
	return s
}

// post sends body to path as the daemon does and decodes the answer.
func post(t testing.TB, h http.Handler, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: answer %q is not JSON: %v", path, rec.Body.String(), err)
		}
	}
	return rec.Code, out
}

func encode(t testing.TB, r Request) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestActivate(t *testing.T) {
	code, out := post(t, newServer(t, testPolicy, nil).Handler(), PathActivate, nil)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	want := map[string]any{"Implements": []any{"authz"}}
	if got, _ := json.Marshal(out); string(got) != `{"Implements":["authz"]}` {
		t.Errorf("Activate = %s, want %v", got, want)
	}
}

func TestUnknownPath(t *testing.T) {
	code, _ := post(t, newServer(t, testPolicy, nil).Handler(), "/VolumeDriver.Create", []byte("{}"))
	if code != http.StatusNotFound {
		t.Errorf("status %d, want 404", code)
	}
}

func TestAuthZReq(t *testing.T) {
	create := readTestdata(t, "create-request.json")
	privileged := bytes.Replace(create, []byte(`"Privileged": false`), []byte(`"Privileged": true`), 1)
	root := bytes.Replace(privileged, []byte(`"User": "1000"`), []byte(`"User": "0:0"`), 1)
	hostBind := bytes.Replace(create, []byte(`"/srv/shared/config:/config:ro"`),
		[]byte(`"/srv/shared/../../etc:/config:ro"`), 1)
	tests := []struct {
		name  string
		req   Request
		raw   string // the request body as sent, when not req
		allow bool
		msg   string
	}{
		{
			name:  "ping",
			req:   Request{RequestMethod: "GET", RequestURI: "/_ping"},
			allow: true,
		},
		{
			name: "typical create",
			req: Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create?name=web",
				RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: create},
			allow: true,
		},
		{
			name:  "create without the version prefix",
			req:   Request{RequestMethod: "POST", RequestURI: "/containers/create", RequestBody: create},
			allow: true,
		},
		{
			name: "privileged",
			req:  Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create", RequestBody: privileged},
			msg:  "privileged containers are not allowed (rule privileged)",
		},
		{
			name: "several rules, sorted and joined",
			req:  Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create", RequestBody: root},
			msg:  "containers must not run as root (rule user); privileged containers are not allowed (rule privileged)",
		},
		{
			name: "escaped path still matches the rule",
			req:  Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/%63reate", RequestBody: privileged},
			msg:  "privileged containers are not allowed (rule privileged)",
		},
		{
			name: "bind outside the allowed folder, through ..",
			req:  Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create", RequestBody: hostBind},
			msg:  "bind mount of /srv/shared/../../etc is not allowed (rule binds)",
		},
		{
			name: "create without a body (not forwarded by Docker)",
			req:  Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create"},
			msg:  "a request body is required (rule body)",
		},
		{
			name: "create with a body that is not JSON",
			req:  Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create", RequestBody: []byte("Image=alpine")},
			msg:  "a request body is required (rule body)",
		},
		{
			name: "request URI that does not parse",
			req:  Request{RequestMethod: "GET", RequestURI: "/v1.41/%zz"},
			msg:  `cannot parse the request URI "/v1.41/%zz": parse "/v1.41/%zz": invalid URL escape "%zz"`,
		},
		{
			name: "authorization request that is not JSON",
			raw:  "not json",
			msg:  "cannot read the authorization request: invalid character 'o' in literal null (expecting 'u')",
		},
		{
			name: "body that is not valid base64",
			raw:  `{"RequestMethod":"POST","RequestURI":"/containers/create","RequestBody":"%%%"}`,
			msg:  "~cannot read the authorization request: illegal base64",
		},
	}
	h := newServer(t, testPolicy, nil).Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.raw)
			if tt.raw == "" {
				body = encode(t, tt.req)
			}
			code, out := post(t, h, PathRequest, body)
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if out["Allow"] != tt.allow {
				t.Fatalf("Allow = %v (Msg %q), want %v", out["Allow"], out["Msg"], tt.allow)
			}
			msg, _ := out["Msg"].(string)
			if part, ok := strings.CutPrefix(tt.msg, "~"); ok {
				if !strings.Contains(msg, part) {
					t.Errorf("Msg = %q, want it to contain %q", msg, part)
				}
			} else if msg != tt.msg {
				t.Errorf("Msg = %q, want %q", msg, tt.msg)
			}
			if _, hasErr := out["Err"]; hasErr {
				t.Errorf("Err set: %v", out["Err"])
			}
		})
	}
}

func TestAuthZReqFailsClosed(t *testing.T) {
	dir := t.TempDir()
	h := newServer(t, dir, nil).Handler()
	ping := encode(t, Request{RequestMethod: "GET", RequestURI: "/_ping"})
	_, out := post(t, h, PathRequest, ping)
	if out["Allow"] != false || !strings.Contains(out["Msg"].(string), "no .rego file in "+dir) {
		t.Fatalf("empty policy folder: answer %v, want a refusal naming the cause", out)
	}
	if err := os.WriteFile(filepath.Join(dir, "authz.rego"), []byte("package docker.authz\nallow := true\n"),
		0o644); err != nil {
		t.Fatal(err)
	}
	if _, out = post(t, h, PathRequest, ping); out["Allow"] != true {
		t.Fatalf("after writing the policy: answer %v, want allow", out)
	}
}

func TestAuthZResAllows(t *testing.T) {
	body := encode(t, Request{RequestMethod: "GET", RequestURI: "/containers/json", ResponseStatusCode: 200,
		ResponseBody: []byte(`[]`)})
	// Even with no policy at all: responses are not policed.
	code, out := post(t, newServer(t, t.TempDir(), nil).Handler(), PathResponse, body)
	if code != http.StatusOK || out["Allow"] != true {
		t.Errorf("AuthZRes = %d %v, want allow", code, out)
	}
}

func TestDecisionLog(t *testing.T) {
	var log bytes.Buffer
	h := newServer(t, testPolicy, &log).Handler()
	create := readTestdata(t, "create-request.json")
	privileged := bytes.Replace(create, []byte(`"Privileged": false`), []byte(`"Privileged": true`), 1)
	headers := map[string]string{"Content-Type": "application/json", "User-Agent": "Docker-Client/20.10.24 (linux)",
		"X-Custom": "header-value-secret"}
	post(t, h, PathRequest, encode(t, Request{User: "alice", UserAuthNMethod: "TLS", RequestMethod: "POST",
		RequestURI: "/v1.41/containers/create?name=web", RequestHeaders: headers, RequestBody: create}))
	post(t, h, PathRequest, encode(t, Request{RequestMethod: "POST",
		RequestURI:     "/v1.41/build?buildargs=%7B%22TOKEN%22%3A%22buildarg-secret%22%7D",
		RequestHeaders: headers, RequestBody: privileged}))

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("decision log has %d lines, want 2:\n%s", len(lines), log.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"msg": "decision", "method": "POST", "path": "/v1.41/containers/create",
		"decision": "allow", "reason": "allowed", "user": "alice"} {
		if first[k] != want {
			t.Errorf("first record %s = %v, want %v", k, first[k], want)
		}
	}
	if _, ok := first["duration_ms"].(float64); !ok {
		t.Errorf("first record has no duration_ms: %v", first)
	}
	if keys, _ := json.Marshal(first["query_keys"]); string(keys) != `["name"]` {
		t.Errorf("query_keys = %s", keys)
	}
	if second["path"] != "/v1.41/build" {
		t.Errorf("second record = %v", second)
	}
	for _, secret := range []string{"not-a-real-secret", "API_TOKEN", "header-value-secret", "User-Agent",
		"buildarg-secret", "alpine"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("decision log contains %q:\n%s", secret, log.String())
		}
	}
}

func TestDecisionLogDeniedCreate(t *testing.T) {
	var log bytes.Buffer
	h := newServer(t, testPolicy, &log).Handler()
	create := readTestdata(t, "create-request.json")
	privileged := bytes.Replace(create, []byte(`"Privileged": false`), []byte(`"Privileged": true`), 1)
	post(t, h, PathRequest, encode(t, Request{RequestMethod: "POST", RequestURI: "/v1.41/containers/create",
		RequestBody: privileged}))
	var rec map[string]any
	if err := json.Unmarshal(log.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	msgs, _ := json.Marshal(rec["messages"])
	if string(msgs) != `["privileged containers are not allowed (rule privileged)"]` || rec["decision"] != "deny" {
		t.Errorf("record = %v", rec)
	}
	if _, ok := rec["revision"].(string); !ok {
		t.Errorf("record has no policy revision: %v", rec)
	}
}

func TestQuiet(t *testing.T) {
	s := newServer(t, testPolicy, nil) // no decision log
	code, out := post(t, s.Handler(), PathRequest, encode(t, Request{RequestMethod: "GET", RequestURI: "/_ping"}))
	if code != http.StatusOK || out["Allow"] != true {
		t.Errorf("answer %d %v", code, out)
	}
}

func TestOversizedRequest(t *testing.T) {
	s := newServer(t, testPolicy, nil)
	s.Input.MaxBodyBytes = 1024
	big := encode(t, Request{RequestMethod: "POST", RequestURI: "/containers/create",
		RequestBody: bytes.Repeat([]byte("a"), 4<<20)})
	_, out := post(t, s.Handler(), PathRequest, big)
	if out["Allow"] != false || !strings.Contains(out["Msg"].(string), "cannot read the authorization request") {
		t.Errorf("answer %v, want a refusal", out)
	}
}
