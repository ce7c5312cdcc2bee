// Package policy loads the Rego policy folder, prepares the decision
// queries once, re-prepares them when the folder's files change, and
// evaluates them. Every failure refuses the request with a message that
// names its cause: the engine never allows by default.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
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
	if len(rs) == 1 && len(rs[0].Expressions) != 1 {
		return e.notOneBoolean(len(rs))
	}
	allow, refusal, decided := e.interpret(rs, func(r rego.Result) any { return r.Expressions[0].Value })
	if decided {
		return refusal
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
	allow, refusal, decided := e.interpret(rs, func(r rego.Result) any { return r.Bindings[allowVar] })
	if decided {
		return refusal, true
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

// interpret reads the decision of a query's results, value picking it from
// the one result: allow when it is a boolean, else (decided) the refusal that
// says why it is not one.
func (e *Engine) interpret(
	rs rego.ResultSet, value func(rego.Result) any,
) (allow bool, refusal Decision, decided bool) {
	if len(rs) == 0 {
		return false, Deny(ReasonUndefined, fmt.Sprintf(
			"policy decision %s is undefined (is the policy in the right package, with a default?)", e.cfg.Query)), true
	}
	if len(rs) > 1 {
		return false, e.notOneBoolean(len(rs)), true
	}
	v := value(rs[0])
	allow, ok := v.(bool)
	if !ok {
		return false, Deny(ReasonNotBoolean,
			fmt.Sprintf("policy decision %s is not a boolean: %s", e.cfg.Query, shortJSON(v))), true
	}
	return allow, Decision{}, false
}

func (e *Engine) notOneBoolean(n int) Decision {
	return Deny(ReasonNotBoolean, fmt.Sprintf("policy decision %s gave %d results, not one boolean", e.cfg.Query, n))
}

// denyMessages gives the sorted messages of the deny query, or a generic
// message when there are none.
func (e *Engine) denyMessages(ctx context.Context, p *prepared, input ast.Value) []string {
	generic := genericRefusal(e.cfg.Query)
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
