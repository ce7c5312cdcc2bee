package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// file is one policy file found in the folder.
type file struct {
	rel   string // slash-separated path relative to the folder
	abs   string
	stat  string    // size, times and inode: changes whenever the file does
	mtime time.Time // for racyFiles
}

// isPolicyFile reports whether a file of the folder is loaded: every
// ".rego" file and every "data.json", hidden files (editor locks and swap
// files, Kubernetes' "..data" links) excepted.
func isPolicyFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	return strings.HasSuffix(name, ".rego") || name == "data.json"
}

// scan lists the policy files under dir with their stat signatures. It reads
// no file content, so that it is cheap enough to run before every decision.
// Symbolic links to files are followed; hidden directories are skipped.
func scan(dir string) ([]file, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("policy folder %s: %w", dir, unwrapPathError(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("policy folder %s is not a directory", dir)
	}
	var files []file
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isPolicyFile(name) {
			return nil
		}
		st, err := os.Stat(p) // follows a symbolic link
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err))
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, file{rel: filepath.ToSlash(rel), abs: p, stat: signature(st), mtime: st.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, nil
}

func signature(st fs.FileInfo) string {
	sig := fmt.Sprintf("%d/%d", st.Size(), st.ModTime().UnixNano())
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		sig += fmt.Sprintf("/%d/%d/%d.%d", s.Dev, s.Ino, s.Ctim.Sec, s.Ctim.Nsec)
	}
	return sig
}

// fingerprint sums up a scan: equal fingerprints mean unchanged files. It
// is never empty, even for no file: "" stands for "unknown".
func fingerprint(files []file) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\x00", len(files))
	for _, f := range files {
		b.WriteString(f.rel)
		b.WriteByte(0)
		b.WriteString(f.stat)
		b.WriteByte(0)
	}
	return b.String()
}

// racyWindow is how recent a modification must be for its stat signature
// not to be trusted: file times advance in coarse ticks, so a file rewritten
// twice within one tick, with the same size, keeps its signature.
const racyWindow = 2 * time.Second

// racyFiles reports whether a file changed so recently, compared with now,
// that a later write may leave its signature unchanged. The content of such
// files is read again (and hashed, not compiled if unchanged) at each check.
func racyFiles(files []file, now time.Time) bool {
	for _, f := range files {
		if now.Sub(f.mtime) < racyWindow {
			return true
		}
	}
	return false
}

// source is the content of the policy folder at one moment.
type source struct {
	modules map[string][]byte // .rego files by path relative to the folder
	data    map[string][]byte // data.json files by path relative to the folder
	hash    string            // sha256 over every path and content
}

func read(dir string, files []file) (*source, error) {
	src := &source{modules: map[string][]byte{}, data: map[string][]byte{}}
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f.abs)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", f.abs, unwrapPathError(err))
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f.rel, len(b))
		h.Write(b)
		if strings.HasSuffix(f.rel, ".rego") {
			src.modules[f.rel] = b
		} else {
			src.data[f.rel] = b
		}
	}
	src.hash = hex.EncodeToString(h.Sum(nil))
	return src, nil
}

// mergeData builds the data document from the data.json files: a file in
// folder a/b of the policy folder is placed at data.a.b, as OPA does when it
// loads a directory. Two files that set the same value are a conflict.
func mergeData(dir string, files map[string][]byte) (map[string]any, error) {
	doc := map[string]any{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var v any
		dec := json.NewDecoder(strings.NewReader(string(files[name])))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %v", filepath.Join(dir, name), err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s is not valid JSON: more than one value", filepath.Join(dir, name))
		}
		var prefix []string
		if d := filepath.ToSlash(filepath.Dir(name)); d != "." {
			prefix = strings.Split(d, "/")
		}
		for i := len(prefix) - 1; i >= 0; i-- {
			v = map[string]any{prefix[i]: v}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s must hold a JSON object", filepath.Join(dir, name))
		}
		if err := merge(doc, obj, "data"); err != nil {
			return nil, fmt.Errorf("%s: %v", filepath.Join(dir, name), err)
		}
	}
	return doc, nil
}

func merge(dst, src map[string]any, at string) error {
	for k, v := range src {
		old, exists := dst[k]
		if !exists {
			dst[k] = v
			continue
		}
		o1, ok1 := old.(map[string]any)
		o2, ok2 := v.(map[string]any)
		if !ok1 || !ok2 {
			return fmt.Errorf("conflicting values for %s.%s", at, k)
		}
		if err := merge(o1, o2, at+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// unwrapPathError drops the path an *fs.PathError repeats, since messages
// name the path already.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
