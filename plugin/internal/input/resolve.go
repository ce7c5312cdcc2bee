package input

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxSymlinks is the number of symbolic links followed while resolving one
// path, as in Linux (MAXSYMLINKS).
const maxSymlinks = 40

var errTooManyLinks = errors.New("too many levels of symbolic links")

// Resolve gives the host path that a bind source designates.
//
// Without a host root (the plugin cannot see the host's file system, the
// case of a managed plugin), it is the source cleaned lexically: "//",
// "." and ".." removed the way the daemon does before it mounts. Symbolic
// links are not followed.
//
// With a host root, symbolic links are followed inside it the way the
// kernel would if the root were "/": an absolute link target starts again
// at the root, ".." is taken on the resolved path and never climbs above the
// root, at most 40 links are followed. Components that do not exist are kept
// as written (the daemon creates missing Binds sources as directories).
//
// A relative source, a symlink loop or an unreadable directory give "".
func Resolve(src, hostRoot string) string {
	if !path.IsAbs(src) {
		return ""
	}
	clean := path.Clean(src)
	if hostRoot == "" {
		return clean
	}
	r, err := resolveIn(hostRoot, clean)
	if err != nil {
		return ""
	}
	return r
}

// resolveIn resolves the absolute, clean path p inside root and returns the
// result as a path relative to root (starting with "/").
func resolveIn(root, p string) (string, error) {
	resolved := "/"
	pending := splitPath(p)
	links := 0
	missing := false
	for len(pending) > 0 {
		comp := pending[0]
		pending = pending[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, comp)
		if missing {
			resolved = next
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(next)))
		if errors.Is(err, fs.ErrNotExist) {
			missing = true
			resolved = next
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", errTooManyLinks
		}
		target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(next)))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		pending = append(splitPath(target), pending...)
	}
	return resolved, nil
}

func splitPath(p string) []string {
	return strings.Split(p, "/")
}
