// Package authz serves the Docker authorization plugin protocol: the
// daemon posts JSON to /Plugin.Activate once, then to /AuthZPlugin.AuthZReq
// before it handles each API request and to /AuthZPlugin.AuthZRes before it
// returns each response.
package authz

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"hardened-docker-host/plugin/internal/input"
	"hardened-docker-host/plugin/internal/policy"
)

// Paths of the plugin protocol.
const (
	PathActivate = "/Plugin.Activate"
	PathRequest  = "/AuthZPlugin.AuthZReq"
	PathResponse = "/AuthZPlugin.AuthZRes"
)

// contentType is the media type of plugin protocol responses.
const contentType = "application/vnd.docker.plugins.v1.1+json"

// Request is what the daemon sends to AuthZReq and AuthZRes. Byte fields
// arrive base64-encoded, as Go encodes []byte. Docker leaves out the
// credential headers (Authorization, X-Registry-Auth, X-Registry-Config)
// and forwards a body only when its Content-Type is application/json, it is
// under 1 MiB and the path is not /auth.
type Request struct {
	User               string            `json:"User,omitempty"`
	UserAuthNMethod    string            `json:"UserAuthNMethod,omitempty"`
	RequestMethod      string            `json:"RequestMethod,omitempty"`
	RequestURI         string            `json:"RequestURI,omitempty"`
	RequestBody        []byte            `json:"RequestBody,omitempty"`
	RequestHeaders     map[string]string `json:"RequestHeaders,omitempty"`
	ResponseBody       []byte            `json:"ResponseBody,omitempty"`
	ResponseHeaders    map[string]string `json:"ResponseHeaders,omitempty"`
	ResponseStatusCode int               `json:"ResponseStatusCode,omitempty"`
}

// Response is the plugin's answer. Docker shows a refusal as
// "authorization denied by plugin NAME: Msg".
type Response struct {
	Allow bool   `json:"Allow"`
	Msg   string `json:"Msg,omitempty"`
	Err   string `json:"Err,omitempty"`
}

// Server answers the daemon.
type Server struct {
	Engine *policy.Engine
	// Input tunes the policy input (body cap, host root).
	Input input.Options
	// DecisionLog receives one record per AuthZReq decision; nil logs
	// nothing.
	DecisionLog *slog.Logger
	// EvalTimeout bounds one decision; zero means 5 seconds.
	EvalTimeout time.Duration
}

// Handler returns the HTTP handler of the plugin protocol.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PathActivate, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string][]string{"Implements": {"authz"}})
	})
	mux.HandleFunc(PathRequest, s.authzReq)
	mux.HandleFunc(PathResponse, s.authzRes)
	return mux
}

// maxRequestBytes bounds what the plugin reads of one AuthZReq: the body
// Docker may forward, base64-encoded, plus room for headers and the rest.
func (s *Server) maxRequestBytes() int64 {
	body := s.Input.MaxBodyBytes
	if body <= 0 {
		body = input.DefaultMaxBodyBytes
	}
	return int64(body)*4/3 + 1<<20
}

func (s *Server) authzReq(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxRequestBytes()))
	if err := dec.Decode(&req); err != nil {
		d := policy.Deny(policy.ReasonInvalidInput, "cannot read the authorization request: "+err.Error())
		s.answer(w, d, nil, req, start)
		return
	}
	d, in := s.Decide(r.Context(), req)
	s.answer(w, d, in, req, start)
}

// Decide builds the input for req and evaluates the policy. It returns the
// input too (nil when it could not be built), for the decision log.
func (s *Server) Decide(ctx context.Context, req Request) (policy.Decision, map[string]any) {
	in, err := input.Build(input.Request{
		User:       req.User,
		AuthMethod: req.UserAuthNMethod,
		Method:     req.RequestMethod,
		URI:        req.RequestURI,
		Headers:    req.RequestHeaders,
		Body:       req.RequestBody,
	}, s.Input)
	if err != nil {
		return policy.Deny(policy.ReasonInvalidInput, err.Error()), nil
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		return policy.Deny(policy.ReasonInvalidInput, "cannot convert the request for the policy: "+err.Error()), in
	}
	timeout := s.EvalTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.Engine.Decide(ctx, v), in
}

func (s *Server) answer(w http.ResponseWriter, d policy.Decision, in map[string]any, req Request, start time.Time) {
	res := Response{Allow: d.Allow}
	if !d.Allow {
		res.Msg = d.Message()
	}
	elapsed := time.Since(start)
	writeJSON(w, res)
	s.logDecision(d, in, req, elapsed)
}

// logDecision writes the decision record: method, path without the query
// (query values may hold build arguments), the query's keys, user,
// decision, reason, messages, duration. Never headers, never the body.
func (s *Server) logDecision(d policy.Decision, in map[string]any, req Request, elapsed time.Duration) {
	if s.DecisionLog == nil {
		return
	}
	path, _ := in["PathPlain"].(string)
	var keys []string
	if q, ok := in["Query"].(map[string]any); ok {
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	decision := "deny"
	if d.Allow {
		decision = "allow"
	}
	attrs := []any{
		"method", req.RequestMethod,
		"path", path,
	}
	if len(keys) > 0 {
		attrs = append(attrs, "query_keys", keys)
	}
	if req.User != "" {
		attrs = append(attrs, "user", req.User)
	}
	attrs = append(attrs,
		"decision", decision,
		"reason", string(d.Reason),
	)
	if len(d.Messages) > 0 {
		attrs = append(attrs, "messages", d.Messages)
	}
	if d.Revision != "" {
		attrs = append(attrs, "revision", d.Revision)
	}
	attrs = append(attrs, "duration_ms", float64(elapsed.Microseconds())/1000)
	s.DecisionLog.Info("decision", attrs...)
}

// authzRes allows every response. The policy decides on requests: by the
// time a response exists the daemon has done the work, and refusing it
// would hide the outcome of an allowed action rather than prevent it.
// opa-docker-authz behaves the same way.
func (s *Server) authzRes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, Response{Allow: true})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(v)
}
