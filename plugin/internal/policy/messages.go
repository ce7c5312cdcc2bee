package policy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The texts of decisions: refusal messages from the deny document, and
// compiler errors on one line.

// sortedMessages sorts msgs and drops duplicates, or gives the generic
// message when there are none.
func sortedMessages(msgs []string, query string) []string {
	if len(msgs) == 0 {
		return []string{genericRefusal(query)}
	}
	sort.Strings(msgs)
	return compact(msgs)
}

// genericRefusal is the message of a refusal that names no rule.
func genericRefusal(query string) string {
	return fmt.Sprintf("request denied by policy (%s is false)", query)
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
