# A small stand-in for the project's policy (policies/), used by the
# plugin's tests and by its benchmark when policies/ is not there.
package docker.authz

default allow := false

allow if count(deny) == 0

create if {
	input.Method == "POST"
	regex.match(`^(/v[0-9.]+)?/containers/create$`, input.PathPlain)
}

deny contains "privileged containers are not allowed (rule privileged)" if {
	create
	input.Body.HostConfig.Privileged == true
}

deny contains "containers must not run as root (rule user)" if {
	create
	not non_root_user(object.get(input.Body, "User", ""))
}

deny contains sprintf("bind mount of %s is not allowed (rule binds)", [m.Source]) if {
	some m in input.BindMounts
	not allowed_bind(m)
}

deny contains "a request body is required (rule body)" if {
	create
	input.Body == null
}

non_root_user(u) if {
	name := split(u, ":")[0]
	name != ""
	not name in {"root", "0"}
}

allowed_bind(m) if {
	m.ReadOnly
	some prefix in data.docker.allowed_bind_prefixes
	startswith(concat("", [m.Resolved, "/"]), concat("", [prefix, "/"]))
}
