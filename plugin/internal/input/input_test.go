package input

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// jsonOf renders v for comparison, with numbers kept as written.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuildPaths(t *testing.T) {
	tests := []struct {
		name      string
		uri       string
		pathPlain string
		pathArr   []any
		query     map[string]any
	}{
		{
			name:      "version prefix",
			uri:       "/v1.41/containers/create",
			pathPlain: "/v1.41/containers/create",
			pathArr:   []any{"", "v1.41", "containers", "create"},
			query:     map[string]any{},
		},
		{
			name:      "no version prefix",
			uri:       "/containers/json",
			pathPlain: "/containers/json",
			pathArr:   []any{"", "containers", "json"},
			query:     map[string]any{},
		},
		{
			name:      "query",
			uri:       "/v1.41/containers/create?name=web&platform=",
			pathPlain: "/v1.41/containers/create",
			pathArr:   []any{"", "v1.41", "containers", "create"},
			query:     map[string]any{"name": []any{"web"}, "platform": []any{""}},
		},
		{
			name:      "repeated query key and escapes",
			uri:       "/v1.41/images/create?fromImage=registry.example%3A5000%2Fbash&tag=latest&tag=v2",
			pathPlain: "/v1.41/images/create",
			pathArr:   []any{"", "v1.41", "images", "create"},
			query: map[string]any{
				"fromImage": []any{"registry.example:5000/bash"},
				"tag":       []any{"latest", "v2"},
			},
		},
		{
			name:      "percent-escaped path is decoded",
			uri:       "/v1.41/%63ontainers/cr%65ate?x=%31",
			pathPlain: "/v1.41/containers/create",
			pathArr:   []any{"", "v1.41", "containers", "create"},
			query:     map[string]any{"x": []any{"1"}},
		},
		{
			name:      "escaped slash decodes to a slash",
			uri:       "/v1.41/containers%2Fcreate",
			pathPlain: "/v1.41/containers/create",
			pathArr:   []any{"", "v1.41", "containers", "create"},
			query:     map[string]any{},
		},
		{
			name:      "trailing slash and dot segments are kept as sent",
			uri:       "/v1.41/./containers//create/",
			pathPlain: "/v1.41/./containers//create/",
			pathArr:   []any{"", "v1.41", ".", "containers", "", "create", ""},
			query:     map[string]any{},
		},
		{
			name:      "bad query pair is skipped like the daemon does",
			uri:       "/v1.41/containers/json?all=1;x=2&size=%zz&limit=3",
			pathPlain: "/v1.41/containers/json",
			pathArr:   []any{"", "v1.41", "containers", "json"},
			query:     map[string]any{"limit": []any{"3"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Build(Request{Method: "POST", URI: tt.uri}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if in["Path"] != tt.uri {
				t.Errorf("Path = %q, want %q", in["Path"], tt.uri)
			}
			if in["PathPlain"] != tt.pathPlain {
				t.Errorf("PathPlain = %q, want %q", in["PathPlain"], tt.pathPlain)
			}
			if !reflect.DeepEqual(in["PathArr"], tt.pathArr) {
				t.Errorf("PathArr = %v, want %v", in["PathArr"], tt.pathArr)
			}
			if !reflect.DeepEqual(in["Query"], tt.query) {
				t.Errorf("Query = %v, want %v", in["Query"], tt.query)
			}
		})
	}
}

func TestBuildBadURI(t *testing.T) {
	for _, uri := range []string{"", "containers/json", "/v1.41/%zz/json"} {
		if _, err := Build(Request{URI: uri}, Options{}); !errors.Is(err, ErrBadURI) {
			t.Errorf("Build(%q) error = %v, want ErrBadURI", uri, err)
		}
	}
}

func TestBuildFields(t *testing.T) {
	in, err := Build(Request{
		User:       "alice",
		AuthMethod: "TLS",
		Method:     "POST",
		URI:        "/v1.41/containers/create",
		Headers:    map[string]string{"Content-Type": "application/json", "User-Agent": "Docker-Client/20.10.24 (linux)"},
		Body:       []byte(`{"Image":"alpine","User":"1000","HostConfig":{"Memory":1073741824123456789}}`),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"AuthMethod":"TLS","BindMounts":[],` +
		`"Body":{"HostConfig":{"Memory":1073741824123456789},"Image":"alpine","User":"1000"},` +
		`"Headers":{"Content-Type":"application/json","User-Agent":"Docker-Client/20.10.24 (linux)"},` +
		`"Method":"POST","Path":"/v1.41/containers/create","PathArr":["","v1.41","containers","create"],` +
		`"PathPlain":"/v1.41/containers/create","Query":{},"User":"alice"}`
	if got := jsonOf(t, in); got != want {
		t.Errorf("input =\n%s\nwant\n%s", got, want)
	}
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		max  int
		want string
	}{
		{"empty", "", 0, "null"},
		{"object", `{"a":[1,2.5,"x"],"b":null}`, 0, `{"a":[1,2.5,"x"],"b":null}`},
		{"big integer kept exact", `{"n":12345678901234567890}`, 0, `{"n":12345678901234567890}`},
		{"surrounding space", " \n{\"a\":1}\n ", 0, `{"a":1}`},
		{"scalar", `"text"`, 0, `"text"`},
		{"not JSON", `Image=alpine`, 0, "null"},
		{"truncated", `{"Image":"alp`, 0, "null"},
		{"trailing garbage", `{"Image":"alpine"} x`, 0, "null"},
		{"two values", `{"Image":"alpine"} {"HostConfig":{"Privileged":true}}`, 0, "null"},
		{"over the cap", `{"Image":"alpine"}`, 10, "null"},
		{"at the cap", `{"a":1}`, 7, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jsonOf(t, ParseBody([]byte(tt.body), tt.max)); got != tt.want {
				t.Errorf("ParseBody(%q) = %s, want %s", tt.body, got, tt.want)
			}
		})
	}
}

func TestBuildBodyCap(t *testing.T) {
	body := `{"Image":"` + strings.Repeat("a", 100) + `"}`
	in, err := Build(Request{URI: "/containers/create", Body: []byte(body)}, Options{MaxBodyBytes: 50})
	if err != nil {
		t.Fatal(err)
	}
	if in["Body"] != nil {
		t.Errorf("Body = %v, want nil over the cap", in["Body"])
	}
}
