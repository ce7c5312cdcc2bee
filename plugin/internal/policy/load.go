package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// file is one policy file found in the folder.
type file struct {
	rel   string // slash-separated path relative to the folder
	abs   string
	stat  signature // size, times and inode: changes whenever the file does
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
	prefix := filepath.Clean(dir) + string(filepath.Separator)
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
		rel, ok := strings.CutPrefix(p, prefix)
		if !ok {
			rel, _ = filepath.Rel(dir, p)
		}
		files = append(files, file{rel: filepath.ToSlash(rel), abs: p, stat: signatureOf(st), mtime: st.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, nil
}

// signature is what a stat of a file says of its content: size,
// modification time, device, inode and change time.
type signature struct {
	size, mtime, dev, ino, ctimeSec, ctimeNsec int64
}

func signatureOf(st fs.FileInfo) signature {
	sig := signature{size: st.Size(), mtime: st.ModTime().UnixNano()}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		sig.dev, sig.ino = int64(s.Dev), int64(s.Ino)
		sig.ctimeSec, sig.ctimeNsec = int64(s.Ctim.Sec), int64(s.Ctim.Nsec)
	}
	return sig
}

// fingerprint sums up a scan: equal fingerprints mean unchanged files. It
// is never empty, even for no file: "" stands for "unknown". (It runs
// before every decision: one allocation.)
func fingerprint(files []file) string {
	n := 8
	for _, f := range files {
		n += len(f.rel) + 2 + 6*8
	}
	b := make([]byte, 0, n)
	b = strconv.AppendInt(b, int64(len(files)), 10)
	b = append(b, 0)
	for _, f := range files {
		b = append(b, f.rel...)
		b = append(b, 0)
		for _, v := range [...]int64{f.stat.size, f.stat.mtime, f.stat.dev, f.stat.ino, f.stat.ctimeSec, f.stat.ctimeNsec} {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		b = append(b, 0)
	}
	return string(b)
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
