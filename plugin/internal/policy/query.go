package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Preparing the decision queries of a loaded policy folder, and the one
// query that decides and explains a refusal in a single evaluation.

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
