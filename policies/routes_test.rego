# The routes table (testdata/routes.json), evaluated against the policy. The
# same table drives the enforcement suite on real hosts: each refused route
# must be refused by its rule, each everyday request allowed.
package docker.authz_test

import rego.v1

routes := data.testdata.routes

# Values for the table's placeholders (on real hosts the suite uses its own).
placeholder_values := {
	"{image}": "localhost:5000/hdh/busybox:1",
	"{image_repo}": "localhost%3A5000%2Fhdh%2Fbusybox",
	"{image_tag}": "1",
	"{container}": "hdh-route-c",
	"{exec}": "e0123",
}

route_input(entry) := object.union(request_input, {"Headers": headers}) if {
	concrete := json.unmarshal(strings.replace_n(placeholder_values, json.marshal(entry)))
	request_input := request(concrete.method, concrete.path, concrete.body)
	headers := object.union(request_input.Headers, object.get(concrete, "headers", {}))
}

route_behaves(entry) if {
	entry.expect == "deny"
	denied_by(entry.rule, route_input(entry))
}

route_behaves(entry) if {
	entry.expect == "allow"
	allowed(route_input(entry))
}

test_routes_behave_as_the_table_expects if {
	misbehaving := {entry.name | some entry in routes; not route_behaves(entry)}
	print("misbehaving routes:", misbehaving)
	count(misbehaving) == 0
}

# Every rule has a route, except "path": the daemon redirects non-canonical
# paths before authorization, so that rule is defence in depth only.
all_rules := {
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
	covered := {entry.rule | some entry in routes; entry.expect == "deny"}
	missing := (all_rules - {"path"}) - covered
	print("rules without a route:", missing)
	count(missing) == 0
	unknown := covered - all_rules
	print("routes naming unknown rules:", unknown)
	count(unknown) == 0
}

test_routes_are_well_formed if {
	count(routes) > 0
	names := [entry.name | some entry in routes]
	count({name | some name in names}) == count(names)
	every entry in routes {
		entry.expect in {"allow", "deny"}
		entry.method in {"GET", "HEAD", "POST", "PUT", "DELETE"}
		startswith(entry.path, "/")
	}
}
