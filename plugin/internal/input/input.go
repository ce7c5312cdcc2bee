// Package input builds the policy's input document from a Docker
// authorization request.
//
// The document has the same fields and meanings as the input of
// opa-docker-authz v0.10, so that one policy works with both plugins:
//
//	Headers     map of request headers as Docker forwarded them
//	Path        the raw request URI (path and query, as sent)
//	PathPlain   the decoded path, without the query string
//	PathArr     PathPlain split on "/"
//	Query       the decoded query, every key mapped to a list of values
//	Method      the HTTP method
//	Body        the request body parsed as JSON, or null
//	User        the authenticated user (TLS client certificate), or ""
//	AuthMethod  the authentication method ("TLS"), or ""
//	BindMounts  host paths the request binds into a container
//
// The document is made only of map[string]any, []any, string, bool,
// json.Number and nil, so it converts to an OPA value without a JSON
// round trip.
package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// DefaultMaxBodyBytes is the largest body that is parsed. Docker itself
// forwards only bodies below 1 MiB, so the default changes nothing for a
// well-behaved daemon; it bounds the work the plugin does in any case.
const DefaultMaxBodyBytes = 1 << 20

// Request is the part of Docker's authorization request that the input is
// built from.
type Request struct {
	User       string
	AuthMethod string
	Method     string
	URI        string
	Headers    map[string]string
	Body       []byte
}

// Options tune how the input is built.
type Options struct {
	// MaxBodyBytes caps the body that is parsed; a larger body is null for
	// the policy. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int
	// HostRoot, when set, is a directory where the host's root file system
	// is visible to the plugin; bind sources are then resolved through
	// symbolic links inside it. When empty, Resolved is the lexically
	// cleaned source: the path the daemon hands to the kernel.
	HostRoot string
}

// ErrBadURI is returned when the request URI cannot be parsed.
var ErrBadURI = errors.New("cannot parse the request URI")

// Build returns the policy input for r.
func Build(r Request, opts Options) (map[string]any, error) {
	u, err := url.ParseRequestURI(r.URI)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURI, r.URI, err)
	}

	// The daemon reads its query parameters with the same function and
	// ignores the pairs it cannot parse, so do we.
	query, _ := url.ParseQuery(u.RawQuery)

	body := ParseBody(r.Body, opts.MaxBodyBytes)

	return map[string]any{
		"Headers":    stringMap(r.Headers),
		"Path":       r.URI,
		"PathPlain":  u.Path,
		"PathArr":    stringList(strings.Split(u.Path, "/")),
		"Query":      queryMap(query),
		"Method":     r.Method,
		"Body":       body,
		"User":       r.User,
		"AuthMethod": r.AuthMethod,
		"BindMounts": BindMounts(body, opts.HostRoot),
	}, nil
}

// ParseBody parses a request body as a single JSON value, numbers kept
// exact. An empty body, a body larger than max (DefaultMaxBodyBytes when
// max <= 0), and a body that is not exactly one JSON value all give nil.
func ParseBody(b []byte, max int) any {
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	if len(b) == 0 || len(b) > max {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	// Exactly one value: anything after it makes the body unparsable.
	if _, err := dec.Token(); err != io.EOF {
		return nil
	}
	return v
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func stringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func queryMap(q url.Values) map[string]any {
	out := make(map[string]any, len(q))
	for k, vs := range q {
		out[k] = stringList(vs)
	}
	return out
}
