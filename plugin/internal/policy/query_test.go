package policy

import "testing"

func TestCombinedQuery(t *testing.T) {
	for _, tt := range []struct{ query, deny, want string }{
		{DefaultQuery, DefaultDenyQuery, "authz_allow = data.docker.authz.allow; " +
			"authz_deny = [authz_message | authz_allow != true; authz_message = data.docker.authz.deny]"},
		{"data.my.policy.decision", `data.my.policy["reasons"]`, "authz_allow = data.my.policy.decision; " +
			"authz_deny = [authz_message | authz_allow != true; authz_message = data.my.policy.reasons]"},
		{"data.docker.authz.allow == true", DefaultDenyQuery, ""},
		{DefaultQuery, "data.docker.authz.deny[x]", ""},
		{DefaultQuery, "x := data.docker.authz.deny", ""},
		{DefaultQuery, "data.docker.authz.deny; true", ""},
		{DefaultQuery, "not data.docker.authz.deny", ""},
		{"input.allow", DefaultDenyQuery, ""},
		{DefaultQuery, "", ""},
	} {
		if got := combinedQuery(tt.query, tt.deny); got != tt.want {
			t.Errorf("combinedQuery(%q, %q) = %q, want %q", tt.query, tt.deny, got, tt.want)
		}
	}
}
