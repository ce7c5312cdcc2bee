# The routes table (testdata/routes.json), evaluated against the policy. The
# same table drives the enforcement suite on real hosts: each refused route
# must be refused by its rule, each everyday request allowed.
package docker.authz_test

import rego.v1

_routes := data.testdata.routes

# Values for the table's placeholders (on real hosts the suite uses its own).
_placeholder_values := {
	"{image}": "localhost:5000/hdh/busybox:1",
	"{image_repo}": "localhost%3A5000%2Fhdh%2Fbusybox",
	"{image_tag}": "1",
	"{container}": "hdh-route-c",
	"{exec}": "e0123",
}

_route_input(entry) := object.union(request_input, {"Headers": headers}) if {
	concrete := json.unmarshal(strings.replace_n(_placeholder_values, json.marshal(entry)))
	request_input := _request(concrete.method, concrete.path, concrete.body)
	headers := object.union(request_input.Headers, object.get(concrete, "headers", {}))
}

_route_behaves(entry) if {
	entry.expect == "deny"
	_denied_by(entry.rule, _route_input(entry))
}

_route_behaves(entry) if {
	entry.expect == "allow"
	_allowed(_route_input(entry))
}

test_routes_behave_as_the_table_expects if {
	misbehaving := {entry.name | some entry in _routes; not _route_behaves(entry)}
	print("misbehaving routes:", misbehaving)
	count(misbehaving) == 0
}

# Every rule has a route, except "path": the daemon redirects non-canonical
# paths before authorization, so that rule is defence in depth only.
_all_rules := {
	"annotations", "api_version", "apparmor", "bind_mount", "bind_read_only",
	"body_required", "build_network", "buildkit_session", "cap_add",
	"capabilities", "cgroup", "cgroup_parent", "cgroupns_mode", "checkpoint",
	"device_cgroup_rules", "device_requests", "devices", "exec_privileged",
	"exec_user", "form_body", "ipc_mode", "log_driver", "mount_type",
	"network_driver", "network_mode", "network_options", "no_new_privileges",
	"path", "pid_mode", "plugins", "privileged", "remote_context", "root_user",
	"runtime", "seccomp", "selinux_label", "swarm", "sysctls", "system_paths",
	"userns_mode", "uts_mode", "volume_options", "volumes_from",
	"writable_cgroups",
}

test_routes_cover_every_rule if {
	covered := {entry.rule | some entry in _routes; entry.expect == "deny"}
	missing := (_all_rules - {"path"}) - covered
	print("rules without a route:", missing)
	count(missing) == 0
	unknown := covered - _all_rules
	print("routes naming unknown rules:", unknown)
	count(unknown) == 0
}

test_routes_are_well_formed if {
	count(_routes) > 0
	names := [entry.name | some entry in _routes]
	count({name | some name in names}) == count(names)
	every entry in _routes {
		entry.expect in {"allow", "deny"}
		entry.method in {"GET", "HEAD", "POST", "PUT", "DELETE"}
		startswith(entry.path, "/")
	}
}
