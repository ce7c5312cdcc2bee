// Package policy loads the Rego policy folder, prepares the decision
// queries once, re-prepares them when the folder's files change, and
// evaluates them. Every failure refuses the request with a message that
// names its cause: the engine never allows by default.
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Defaults of Config.
const (
	DefaultDir       = "/opa/policies"
	DefaultQuery     = "data.docker.authz.allow"
	DefaultDenyQuery = "data.docker.authz.deny"
)

// Config says where the policy is and what to ask it.
type Config struct {
	// Dir is the policy folder: every .rego file and data.json under it
	// is loaded.
	Dir string
	// Query is the decision: it must give true to allow a request.
	Query string
	// DenyQuery, if not empty, gives the messages shown when a request is
	// refused (a set or array of strings, typically).
	DenyQuery string
	// StrictBuiltinErrors makes an error in a built-in function (a type
	// error, a division by zero) an evaluation error, so that the request is
	// refused. By default, as in opa eval and opa test, the expression is
	// undefined instead.
	StrictBuiltinErrors bool
	// Recheck is the least time between two checks of the folder for
	// changes; zero checks before every decision.
	Recheck time.Duration
	// Logger receives load events (policy loaded, policy broken); nil
	// discards them.
	Logger *slog.Logger
}

// Reason classifies a decision.
type Reason string

// Reasons of decisions.
const (
	ReasonAllowed      Reason = "allowed"       // the query gave true
	ReasonDenied       Reason = "denied"        // the query gave false
	ReasonUnavailable  Reason = "policy_error"  // policy missing, unreadable or not compiling
	ReasonEvalError    Reason = "eval_error"    // evaluation failed
	ReasonUndefined    Reason = "undefined"     // the query gave no result
	ReasonNotBoolean   Reason = "not_boolean"   // the query gave something other than a boolean
	ReasonInvalidInput Reason = "invalid_input" // the request could not be turned into input
)

// Decision is the outcome for one request.
type Decision struct {
	Allow    bool
	Reason   Reason
	Messages []string // why the request is refused; empty when allowed
	Revision string   // short hash of the policy files that decided, if any
}

// Message is the text Docker shows the user for a refusal.
func (d Decision) Message() string {
	return strings.Join(d.Messages, "; ")
}

// Deny returns a refusal for reason with one message.
func Deny(reason Reason, msg string) Decision {
	return Decision{Reason: reason, Messages: []string{msg}}
}

// Engine evaluates requests against the policy folder. It is safe for
// concurrent use.
type Engine struct {
	cfg       Config
	log       *slog.Logger
	mu        sync.Mutex
	checked   time.Time // last check of the folder
	fp        string    // stat fingerprint of the files behind cur
	hash      string    // content hash of the files behind cur
	cur       *prepared
	compiles  int // times the policy was compiled, for tests
	lastError string
}

// prepared is one loaded state of the folder: queries ready to evaluate,
// or the reason there are none.
type prepared struct {
	allow rego.PreparedEvalQuery
	deny  *rego.PreparedEvalQuery
	// both, when set, evaluates the decision and, unless it is true, the
	// deny messages in one evaluation (see combinedQuery).
	both     *rego.PreparedEvalQuery
	err      error
	revision string
}

// Variables of the combined query.
const (
	allowVar = "authz_allow"
	denyVar  = "authz_deny"
)

// combinedQuery returns one query that evaluates both the decision and,
// when the decision is not true, the deny messages: a policy's rules are
// then evaluated once per request, where two queries would evaluate the
// rules the decision and the messages share (typically all of them, with
// allow if count(deny) == 0) twice. The decision is allowVar; denyVar is
// [] when the decision is true or the deny document undefined, else [the
// deny document]. It returns "" unless both queries are plain references
// to documents (no variables, no other expression), whose results it gives
// exactly; others are evaluated one after the other.
func combinedQuery(query, denyQuery string) string {
	allow, ok := documentRef(query)
	if !ok {
		return ""
	}
	deny, ok := documentRef(denyQuery)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s = %s; %s = [authz_message | %s != true; authz_message = %s]",
		allowVar, allow, denyVar, allowVar, deny)
}

// documentRef returns query if it is a single, plain, ground reference.
func documentRef(query string) (ast.Ref, bool) {
	body, err := ast.ParseBody(query)
	if err != nil || len(body) != 1 {
		return nil, false
	}
	expr := body[0]
	if expr.Negated || len(expr.With) > 0 {
		return nil, false
	}
	term, ok := expr.Terms.(*ast.Term)
	if !ok {
		return nil, false
	}
	ref, ok := term.Value.(ast.Ref)
	if !ok || !ref.IsGround() || !ref.HasPrefix(ast.DefaultRootRef) {
		return nil, false
	}
	return ref, true
}

// New checks the queries and returns an engine for cfg. The folder is read
// on first use and whenever it changes; a folder that is missing or broken
// now is not an error here: requests are refused until it is repaired.
func New(cfg Config) (*Engine, error) {
	if cfg.Dir == "" {
		cfg.Dir = DefaultDir
	}
	if cfg.Query == "" {
		return nil, errors.New("the decision query is empty")
	}
	if _, err := ast.ParseBody(cfg.Query); err != nil {
		return nil, fmt.Errorf("decision query %q: %v", cfg.Query, err)
	}
	if cfg.DenyQuery != "" {
		if _, err := ast.ParseBody(cfg.DenyQuery); err != nil {
			return nil, fmt.Errorf("deny query %q: %v", cfg.DenyQuery, err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, log: log}, nil
}

// Decide evaluates the decision query for input and, on a refusal, the
// deny query for its messages.
func (e *Engine) Decide(ctx context.Context, input ast.Value) Decision {
	p := e.current(ctx)
	if p.err != nil {
		return Deny(ReasonUnavailable, p.err.Error())
	}
	d := e.decide(ctx, p, input)
	d.Revision = p.revision
	return d
}

func (e *Engine) decide(ctx context.Context, p *prepared, input ast.Value) Decision {
	if p.both != nil {
		if d, ok := e.decideAtOnce(ctx, p, input); ok {
			return d
		}
		// An error: evaluate the queries one after the other, which tells
		// an error of the decision from an error of its messages.
	}
	rs, err := p.allow.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return Deny(ReasonEvalError, "policy evaluation failed: "+oneLine(err.Error()))
	}
	if len(rs) == 0 {
		return Deny(ReasonUndefined, fmt.Sprintf("policy decision %s is undefined (is the policy in the right package, with a default?)", e.cfg.Query))
	}
	if len(rs) > 1 || len(rs[0].Expressions) != 1 {
		return Deny(ReasonNotBoolean, fmt.Sprintf("policy decision %s gave %d results, not one boolean", e.cfg.Query, len(rs)))
	}
	v := rs[0].Expressions[0].Value
	allow, ok := v.(bool)
	if !ok {
		return Deny(ReasonNotBoolean, fmt.Sprintf("policy decision %s is not a boolean: %s", e.cfg.Query, shortJSON(v)))
	}
	if allow {
		return Decision{Allow: true, Reason: ReasonAllowed}
	}
	return Decision{Reason: ReasonDenied, Messages: e.denyMessages(ctx, p, input)}
}

// decideAtOnce decides with the combined query; false when it failed.
func (e *Engine) decideAtOnce(ctx context.Context, p *prepared, input ast.Value) (Decision, bool) {
	rs, err := p.both.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return Decision{}, false
	}
	if len(rs) == 0 {
		return Deny(ReasonUndefined, fmt.Sprintf("policy decision %s is undefined (is the policy in the right package, with a default?)", e.cfg.Query)), true
	}
	if len(rs) > 1 {
		return Deny(ReasonNotBoolean, fmt.Sprintf("policy decision %s gave %d results, not one boolean", e.cfg.Query, len(rs))), true
	}
	v := rs[0].Bindings[allowVar]
	allow, ok := v.(bool)
	if !ok {
		return Deny(ReasonNotBoolean, fmt.Sprintf("policy decision %s is not a boolean: %s", e.cfg.Query, shortJSON(v))), true
	}
	if allow {
		return Decision{Allow: true, Reason: ReasonAllowed}, true
	}
	var msgs []string
	denials, _ := rs[0].Bindings[denyVar].([]any)
	for _, d := range denials {
		msgs = append(msgs, messages(d)...)
	}
	return Decision{Reason: ReasonDenied, Messages: sortedMessages(msgs, e.cfg.Query)}, true
}

// denyMessages gives the sorted messages of the deny query, or a generic
// message when there are none.
func (e *Engine) denyMessages(ctx context.Context, p *prepared, input ast.Value) []string {
	generic := fmt.Sprintf("request denied by policy (%s is false)", e.cfg.Query)
	if p.deny == nil {
		return []string{generic}
	}
	rs, err := p.deny.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return []string{generic + "; deny messages unavailable: " + oneLine(err.Error())}
	}
	var msgs []string
	for _, r := range rs {
		for _, ex := range r.Expressions {
			msgs = append(msgs, messages(ex.Value)...)
		}
	}
	return sortedMessages(msgs, e.cfg.Query)
}

// sortedMessages sorts msgs and drops duplicates, or gives the generic
// message when there are none.
func sortedMessages(msgs []string, query string) []string {
	if len(msgs) == 0 {
		return []string{fmt.Sprintf("request denied by policy (%s is false)", query)}
	}
	sort.Strings(msgs)
	return compact(msgs)
}

// messages turns a deny result into strings: a set or array gives one
// message per element, an object one per value, a string itself.
func messages(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		var out []string
		for _, el := range x {
			if s, ok := el.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, shortJSON(el))
			}
		}
		return out
	case map[string]any:
		var out []string
		for k, el := range x {
			if s, ok := el.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, k+": "+shortJSON(el))
			}
		}
		return out
	default:
		return []string{shortJSON(x)}
	}
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Warm loads the policy folder now rather than at the first decision, so
// that a broken policy is logged at start.
func (e *Engine) Warm(ctx context.Context) {
	e.current(ctx)
}

// Compiles reports how many times the policy has been compiled.
func (e *Engine) Compiles() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.compiles
}

// current returns the prepared state for the folder as it is now: it
// checks the files' stat signatures and, only when they changed, reads
// them; only when their content changed, compiles and prepares again.
func (e *Engine) current(ctx context.Context) *prepared {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	if e.cur != nil && e.cfg.Recheck > 0 && now.Sub(e.checked) < e.cfg.Recheck {
		return e.cur
	}
	e.checked = now

	files, err := scan(e.cfg.Dir)
	if err != nil {
		return e.fail("", fmt.Errorf("policy unavailable: %v", err))
	}
	fp := fingerprint(files)
	if e.cur != nil && fp == e.fp {
		return e.cur
	}
	src, err := read(e.cfg.Dir, files)
	if err != nil {
		return e.fail("", fmt.Errorf("policy unavailable: %v", err))
	}
	if racyFiles(files, now) {
		fp = "" // read again at the next check
	}
	if e.cur != nil && src.hash == e.hash {
		e.fp = fp
		return e.cur
	}
	e.compiles++
	p := e.prepare(ctx, src)
	e.fp, e.hash, e.cur = fp, src.hash, p
	if p.err != nil {
		e.logError(p.err)
	} else {
		e.lastError = ""
		e.log.Info("policy loaded", "dir", e.cfg.Dir, "files", len(files), "revision", p.revision)
	}
	return p
}

// fail records a state without queries; fingerprint and hash are cleared
// so that the next check starts afresh.
func (e *Engine) fail(revision string, err error) *prepared {
	e.fp, e.hash = "", ""
	e.cur = &prepared{err: err, revision: revision}
	e.logError(err)
	return e.cur
}

func (e *Engine) logError(err error) {
	if msg := err.Error(); msg != e.lastError {
		e.lastError = msg
		e.log.Error("policy broken: refusing every request", "dir", e.cfg.Dir, "error", msg)
	}
}

func (e *Engine) prepare(ctx context.Context, src *source) *prepared {
	revision := src.hash[:12]
	fail := func(err error) *prepared { return &prepared{err: err, revision: revision} }
	if len(src.modules) == 0 {
		return fail(fmt.Errorf("policy unavailable: no .rego file in %s", e.cfg.Dir))
	}
	modules := make(map[string]*ast.Module, len(src.modules))
	var parseErrs ast.Errors
	for rel, b := range src.modules {
		name := e.cfg.Dir + "/" + rel
		m, err := ast.ParseModuleWithOpts(name, string(b), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			var errs ast.Errors
			if errors.As(err, &errs) {
				parseErrs = append(parseErrs, errs...)
				continue
			}
			return fail(fmt.Errorf("policy does not compile: %s: %v", name, oneLine(err.Error())))
		}
		modules[name] = m
	}
	if len(parseErrs) > 0 {
		return fail(fmt.Errorf("policy does not compile: %s", formatErrors(parseErrs)))
	}
	data, err := mergeData(e.cfg.Dir, src.data)
	if err != nil {
		return fail(fmt.Errorf("policy data invalid: %v", err))
	}
	compiler := ast.NewCompiler().WithEnablePrintStatements(false)
	compiler.Compile(modules)
	if compiler.Failed() {
		return fail(fmt.Errorf("policy does not compile: %s", formatErrors(compiler.Errors)))
	}
	// The data is read as AST values: nothing is converted per decision.
	store := inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
	newQuery := func(q string) *rego.Rego {
		return rego.New(rego.Query(q), rego.Compiler(compiler), rego.Store(store),
			rego.StrictBuiltinErrors(e.cfg.StrictBuiltinErrors))
	}
	allow, err := newQuery(e.cfg.Query).PrepareForEval(ctx)
	if err != nil {
		return fail(fmt.Errorf("cannot prepare %s: %s", e.cfg.Query, oneLine(err.Error())))
	}
	p := &prepared{allow: allow, revision: revision}
	if e.cfg.DenyQuery != "" {
		deny, err := newQuery(e.cfg.DenyQuery).PrepareForEval(ctx)
		if err != nil {
			return fail(fmt.Errorf("cannot prepare %s: %s", e.cfg.DenyQuery, oneLine(err.Error())))
		}
		p.deny = &deny
		if q := combinedQuery(e.cfg.Query, e.cfg.DenyQuery); q != "" {
			// (Should it not prepare, the queries are evaluated apart.)
			if both, err := newQuery(q).PrepareForEval(ctx); err == nil {
				p.both = &both
			}
		}
	}
	return p
}

// formatErrors renders compiler errors on one line: "file:row: code: text",
// at most five, sorted by place.
func formatErrors(errs ast.Errors) string {
	sorted := append(ast.Errors(nil), errs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Location, sorted[j].Location
		if a == nil || b == nil {
			return b != nil
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Row < b.Row
	})
	const max = 5
	var parts []string
	for i, e := range sorted {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(sorted)-max))
			break
		}
		s := e.Code + ": " + oneLine(e.Message)
		if e.Location != nil {
			s = fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, s)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
