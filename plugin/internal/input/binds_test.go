package input

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBindMounts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"no body", ``, `[]`},
		{"no HostConfig", `{"Image":"alpine"}`, `[]`},
		{"body not an object", `["/:/host"]`, `[]`},
		{
			name: "Binds: rw, ro, options, named and anonymous volumes",
			body: `{"HostConfig":{"Binds":[
				"/srv/data:/data",
				"/srv/ro:/ro:ro",
				"/srv/z:/z:Z,ro",
				"/srv/rw:/rw:rw,z",
				"named:/vol",
				"named:/vol:ro",
				"/anonymous"
			]}}`,
			want: `[{"ReadOnly":false,"Resolved":"/srv/data","Source":"/srv/data"},` +
				`{"ReadOnly":true,"Resolved":"/srv/ro","Source":"/srv/ro"},` +
				`{"ReadOnly":true,"Resolved":"/srv/z","Source":"/srv/z"},` +
				`{"ReadOnly":false,"Resolved":"/srv/rw","Source":"/srv/rw"}]`,
		},
		{
			name: "Binds: path tricks are cleaned in Resolved",
			body: `{"HostConfig":{"Binds":["//etc/../:/host","/home/u/./x/..//:/h:ro","/:/root"]}}`,
			want: `[{"ReadOnly":false,"Resolved":"/","Source":"//etc/../"},` +
				`{"ReadOnly":true,"Resolved":"/home/u","Source":"/home/u/./x/..//"},` +
				`{"ReadOnly":false,"Resolved":"/","Source":"/"}]`,
		},
		{
			name: "Binds: malformed entry with four parts is kept",
			body: `{"HostConfig":{"Binds":["/etc:/etc:ro:extra"]}}`,
			want: `[{"ReadOnly":true,"Resolved":"/etc","Source":"/etc"}]`,
		},
		{
			name: "Binds: non-string entries and non-list are ignored",
			body: `{"HostConfig":{"Binds":[1,null,{"Source":"/"}]}}`,
			want: `[]`,
		},
		{
			name: "Mounts: bind, volume, tmpfs",
			body: `{"HostConfig":{"Mounts":[
				{"Type":"bind","Source":"/var/run/docker.sock","Target":"/s"},
				{"Type":"bind","Source":"/srv/ro","Target":"/ro","ReadOnly":true},
				{"Type":"volume","Source":"named","Target":"/v"},
				{"Type":"tmpfs","Target":"/t"},
				{"Type":"bind","Target":"/nosource"}
			]}}`,
			want: `[{"ReadOnly":false,"Resolved":"/var/run/docker.sock","Source":"/var/run/docker.sock"},` +
				`{"ReadOnly":true,"Resolved":"/srv/ro","Source":"/srv/ro"}]`,
		},
		{
			name: "Binds then Mounts",
			body: `{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/b","Target":"/b"}],"Binds":["/a:/a"]}}`,
			want: `[{"ReadOnly":false,"Resolved":"/a","Source":"/a"},` +
				`{"ReadOnly":false,"Resolved":"/b","Source":"/b"}]`,
		},
		{
			name: "Mounts: relative bind source has no Resolved",
			body: `{"HostConfig":{"Mounts":[{"Type":"bind","Source":"rel/dir","Target":"/r"}]}}`,
			want: `[{"ReadOnly":false,"Resolved":"","Source":"rel/dir"}]`,
		},
		{
			name: "keys in any case, as the daemon's JSON decoder accepts them",
			body: `{"hostconfig":{"BINDS":["/:/host"],"mounts":[{"type":"bind","source":"/etc","readonly":true}]}}`,
			want: `[{"ReadOnly":false,"Resolved":"/","Source":"/"},` +
				`{"ReadOnly":true,"Resolved":"/etc","Source":"/etc"}]`,
		},
		{
			name: "Unicode case folding: long s and Kelvin sign",
			body: "{\"HostConfig\":{\"Bind\u017f\":[\"/:/host\"]},\"x\":1}",
			want: `[{"ReadOnly":false,"Resolved":"/","Source":"/"}]`,
		},
		{
			name: "several spellings of one key: every one counts",
			body: `{"HostConfig":{"Binds":["/srv/ok:/ok:ro"]},"hostConfig":{"Binds":["/:/host"]}}`,
			want: `[{"ReadOnly":true,"Resolved":"/srv/ok","Source":"/srv/ok"},` +
				`{"ReadOnly":false,"Resolved":"/","Source":"/"}]`,
		},
		{
			name: "read-only only if every spelling says so; bind if any spelling says so",
			body: `{"HostConfig":{"Mounts":[
				{"Type":"volume","type":"bind","Source":"/etc","ReadOnly":true,"readOnly":false},
				{"Type":"BIND","Source":"/a","source":"/b","ReadOnly":"true"}
			]}}`,
			want: `[{"ReadOnly":false,"Resolved":"/etc","Source":"/etc"},` +
				`{"ReadOnly":false,"Resolved":"/a","Source":"/a"},` +
				`{"ReadOnly":false,"Resolved":"/b","Source":"/b"}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jsonOf(t, BindMounts(ParseBody([]byte(tt.body), 0), ""))
			if got != tt.want {
				t.Errorf("BindMounts =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestLookupAllFolding(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"HostConfig", "hostconfig", true},
		{"HostConfig", "HOSTCONFIG", true},
		{"Binds", "Bind\u017f", true}, // ſ folds to s
		{"Kind", "\u212aind", true},   // Kelvin sign folds to K
		{"Binds", "Bind", false},
		{"Mounts", "Mounts ", false},
	}
	for _, tt := range tests {
		got := len(lookupAll(map[string]any{tt.b: 1}, tt.a)) == 1
		if got != tt.same {
			t.Errorf("key %q matches %q: %v, want %v", tt.b, tt.a, got, tt.same)
		}
	}
}

func TestResolveInHostRoot(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, p string) {
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	mk("home/user")
	mk("srv/data")
	mk("var/lib")
	mk("run")
	ln("/", "home/user/root")                  // absolute: the host's root, not the plugin's
	ln("../../var", "home/user/var")           // relative
	ln("/run", "var/run")                      // the usual /var/run -> /run
	ln("../../../../../../etc", "srv/data/up") // ".." never climbs above the root
	ln("loop2", "home/user/loop1")
	ln("loop1", "home/user/loop2")
	ln("/home/user/root/srv/data", "home/user/chain")
	ln("/home/user/var/lib/..", "home/user/dotdot") // ".." after a link is physical

	tests := []struct {
		src, want string
	}{
		{"/srv/data", "/srv/data"},
		{"/home/user/root", "/"},
		{"/home/user/root/var", "/var"},
		{"/home/user/var", "/var"},
		{"/home/user/var/run/docker.sock", "/run/docker.sock"},
		{"/var/run", "/run"},
		{"/srv/data/up", "/etc"},
		{"/srv/data/up/shadow", "/etc/shadow"},
		{"/home/user/chain", "/srv/data"},
		{"/home/user/dotdot", "/var"},
		{"/home/user/new/dir", "/home/user/new/dir"}, // missing parts kept as written
		{"/home/user/root/new/../x", "/x"},           // cleaned first, as the daemon does
		{"/home/user/loop1", ""},                     // loop
		{"relative", ""},
	}
	for _, tt := range tests {
		if got := Resolve(tt.src, root); got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestBindMountsWithHostRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "home/user"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(root, "home/user/root")); err != nil {
		t.Fatal(err)
	}
	body := ParseBody([]byte(`{"HostConfig":{"Binds":["/home/user/root/var:/mnt"]}}`), 0)
	got := jsonOf(t, BindMounts(body, root))
	want := `[{"ReadOnly":false,"Resolved":"/var","Source":"/home/user/root/var"}]`
	if got != want {
		t.Errorf("BindMounts = %s, want %s", got, want)
	}
}
