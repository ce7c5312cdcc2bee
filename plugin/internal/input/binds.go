package input

import (
	"path"
	"sort"
	"strings"
)

// BindMounts lists the host paths that a request body binds into a
// container: every HostConfig.Binds entry whose source is an absolute path
// and every HostConfig.Mounts entry of type "bind". Each element is
//
//	{"Source": string, "ReadOnly": bool, "Resolved": string}
//
// The daemon decodes bodies with Go's encoding/json, which matches object
// keys case-insensitively ("hostconfig", "BINDS" and "Binds" all fill the
// same field). The keys are matched the same way here, and when a body
// spells one key several ways every spelling is taken into account, so that
// a policy never sees fewer binds than the daemon makes. The result is never
// nil: a request without binds gives an empty list.
func BindMounts(body any, hostRoot string) []any {
	out := []any{}
	for _, hc := range lookupAll(body, "HostConfig") {
		for _, binds := range lookupAll(hc, "Binds") {
			list, _ := binds.([]any)
			for _, b := range list {
				spec, ok := b.(string)
				if !ok {
					continue
				}
				if src, ro, ok := parseBind(spec); ok {
					out = append(out, bindMount(src, ro, hostRoot))
				}
			}
		}
		for _, mounts := range lookupAll(hc, "Mounts") {
			list, _ := mounts.([]any)
			for _, m := range list {
				if !isBindMount(m) {
					continue
				}
				ro := readOnlyMount(m)
				for _, s := range lookupAll(m, "Source") {
					if src, ok := s.(string); ok && src != "" {
						out = append(out, bindMount(src, ro, hostRoot))
					}
				}
			}
		}
	}
	return out
}

// parseBind splits a HostConfig.Binds entry, "source:target[:options]".
// Only entries with an absolute source bind a host path; the others name a
// volume (or, with one part, make an anonymous one). Entries the daemon
// rejects as malformed (more than three parts) are kept: the policy may
// refuse them too, it must never miss one.
func parseBind(spec string) (source string, readOnly bool, ok bool) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || !path.IsAbs(parts[0]) {
		return "", false, false
	}
	if len(parts) >= 3 {
		for _, opt := range strings.Split(parts[2], ",") {
			if opt == "ro" {
				readOnly = true
			}
		}
	}
	return parts[0], readOnly, true
}

// isBindMount reports whether any spelling of a Mounts entry's "Type" key
// says "bind".
func isBindMount(m any) bool {
	for _, t := range lookupAll(m, "Type") {
		if s, ok := t.(string); ok && strings.EqualFold(s, "bind") {
			return true
		}
	}
	return false
}

// readOnlyMount reports whether a Mounts entry is read-only: only when the
// key is present and every spelling of it is the boolean true.
func readOnlyMount(m any) bool {
	vals := lookupAll(m, "ReadOnly")
	if len(vals) == 0 {
		return false
	}
	for _, v := range vals {
		if b, ok := v.(bool); !ok || !b {
			return false
		}
	}
	return true
}

func bindMount(src string, readOnly bool, hostRoot string) map[string]any {
	return map[string]any{
		"Source":   src,
		"ReadOnly": readOnly,
		"Resolved": Resolve(src, hostRoot),
	}
}

// lookupAll returns the values of every key of the object v that Go's
// encoding/json would match to the struct field name (exact key first, then
// the other spellings in sorted order). A v that is not an object gives
// nothing.
func lookupAll(v any, name string) []any {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var vals []any
	if x, ok := obj[name]; ok {
		vals = append(vals, x)
	}
	var keys []string
	for k := range obj {
		// strings.EqualFold is the comparison encoding/json makes: Unicode
		// simple folding, so "ſ" (U+017F) matches "s" and the Kelvin sign
		// matches "k", as they do for the daemon.
		if k != name && strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals = append(vals, obj[k])
	}
	return vals
}
