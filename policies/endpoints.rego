# Endpoint rules: API routes that are refused outright or for some of their
# parameters, and requests the policy cannot judge (fail closed).
package docker.authz

import rego.v1

# ---------------------------------------------------------------------------
# Requests the policy cannot judge.

deny contains msg if {
	not request_path
	msg := denial("path", "the request has no path to authorize")
}

deny contains msg if {
	not method
	msg := denial("path", "the request has no method to authorize")
}

# The daemon never runs a handler for a path with empty, "." or ".."
# segments (it redirects to the cleaned path), and no client sends one.
deny contains msg if {
	path_not_canonical
	msg := denial("path", sprintf("request path %s is not canonical (empty, \".\" or \"..\" segments)", [show(request_path)]))
}

# (Canonical: absolute, without "//", "." or ".." names, as plain_path.)
path_not_canonical if not plain_path(request_path)

# Endpoints whose JSON body the rules inspect. Docker forwards a body to the
# plugin only when it is application/json, not chunked and under 1 MiB; any
# other body is null here, and the request is refused rather than judged
# blind.
body_inspected if container_create

body_inspected if container_exec

body_inspected if container_update

body_inspected if volume_create

body_inspected if network_create

deny contains msg if {
	body_inspected
	not is_object(input.Body)
	msg := denial("body_required", sprintf(
		"%s %s needs a JSON object body that the authorization plugin can read (Docker forwards none when the body is missing, not application/json, chunked, or 1 MiB or more)",
		[method, request_path],
	))
}

# The daemon reads query parameters with Go's FormValue, which also reads
# them from a form-encoded body that Docker never forwards to the plugin.
deny contains msg if {
	some name, value in input.Headers
	lower(name) == "content-type"
	regex.match(`application/x-www-form-urlencoded|multipart/form-data`, lower(value))
	msg := denial("form_body", "form-encoded request bodies are not allowed (the daemon would read parameters from them that the policy cannot see)")
}

# Old API versions accept settings later versions refuse (a HostConfig in
# POST /containers/{id}/start, before 1.24). The daemon's version middleware
# runs after the authorization one, so the version is checked here.
deny contains msg if {
	version_less(api_version, minimum_api_version)
	msg := denial("api_version", sprintf("API version %s is not allowed (%s or later is required)", [api_version, minimum_api_version]))
}

default minimum_api_version := "1.24"

minimum_api_version := version if {
	version := setting("min_api_version", "1.24")
	is_string(version)
}

# version_less compares versions the way the daemon does: dot-separated
# numbers, missing or unparsable parts (Go's Atoi fails above 2^63-1) as 0.
# Arrays of numbers of the same length compare like that; a shorter one is
# padded with zeros first.
version_less(a, b) if {
	left := version_numbers(a)
	right := version_numbers(b)
	count(left) == count(right)
	left < right
}

version_less(a, b) if {
	left := version_numbers(a)
	right := version_numbers(b)
	count(left) != count(right)
	zero_padded(left, right) < zero_padded(right, left)
}

# Parts of at most 18 digits are numbers below 2^63-1.
version_numbers(version) := [to_number(part) | some part in split(version, ".")] if {
	regex.match(`^[0-9]{1,18}(\.[0-9]{1,18})*$`, version)
} else := [version_number(part) | some part in split(version, ".")]

default version_number(_) := 0

version_number(part) := number if {
	regex.match(`^[0-9]+$`, part)
	number := to_number(part)
	number <= 9223372036854775807
}

# zero_padded: parts, with zeros appended up to the length of other.
zero_padded(parts, other) := array.concat(parts, [0 | some _ in array.slice(other, count(parts), count(other))])

# ---------------------------------------------------------------------------
# Plugins: the authorization plugin is one, and a disabled, removed or
# reconfigured one checks nothing. Listing and inspecting stay allowed.

deny contains msg if {
	route[0] == "plugins"
	not read_only_method
	msg := denial("plugins", "installing, enabling, disabling, configuring, upgrading, pushing or removing plugins is not allowed")
}

# ---------------------------------------------------------------------------
# Swarm: services' tasks are created by the orchestrator without passing
# through authorization, and joining a swarm lets its managers schedule
# them here.

deny contains msg if {
	route[0] in {"swarm", "services", "nodes"}
	not read_only_method
	msg := denial("swarm", "swarm changes are not allowed (swarm init/join/update, services, nodes): swarm tasks bypass authorization")
}

# ---------------------------------------------------------------------------
# Builds.

# /session and /grpc upgrade the connection to BuildKit's gRPC API, whose
# build requests (entitlements such as security.insecure and network.host,
# RUN --network=host) the plugin never sees.
deny contains msg if {
	route[0] in {"session", "grpc"}
	msg := denial("buildkit_session", sprintf("/%s (BuildKit's gRPC API) is not allowed: builds go through POST /build (DOCKER_BUILDKIT=0)", [route[0]]))
}

deny contains msg if {
	image_build
	some mode in query_values("networkmode")
	host_or_container_mode(mode)
	msg := denial("build_network", sprintf("builds on network %s are not allowed", [show(mode)]))
}

deny contains msg if {
	image_build
	some parent in query_values("cgroupparent")
	parent != ""
	msg := denial("cgroup_parent", sprintf("choosing the parent cgroup is not allowed (cgroupparent %s)", [show(parent)]))
}

# A remote build context or import source is fetched by the daemon, from the
# host's network (its loopback and metadata services included).
deny contains msg if {
	image_build
	some remote in query_values("remote")
	not remote in {"", "client-session"}
	msg := denial("remote_context", sprintf("remote build contexts are not allowed (remote %s): send the context instead", [show(remote)]))
}

deny contains msg if {
	image_create
	some source in query_values("fromsrc")
	not source in {"", "-"}
	msg := denial("remote_context", sprintf("importing from a URL is not allowed (fromSrc %s): send the archive instead", [show(source)]))
}

# ---------------------------------------------------------------------------
# Checkpoints (experimental): CRIU dumps to and restores from a host folder
# the request names.

deny contains msg if {
	container_action == "checkpoints"
	msg := denial("checkpoint", "creating checkpoints is not allowed")
}

deny contains msg if {
	container_start
	some name in ["checkpoint", "checkpoint-dir"]
	some value in query_values(name)
	value != ""
	msg := denial("checkpoint", "starting from a checkpoint is not allowed")
}

# ---------------------------------------------------------------------------
# Networks: drivers other than bridge put containers on the host's
# interfaces (macvlan, ipvlan) or need a swarm.

deny contains msg if {
	network_create
	some driver in body_values("Driver")
	not driver in {null, ""}
	not driver in setting("network_drivers", ["bridge"])
	msg := denial("network_driver", sprintf("network driver %s is not allowed", [show(driver)]))
}

# A bridge network on an existing host bridge plugs containers into it.
deny contains msg if {
	network_create
	some options in body_values("Options")
	is_object(options)
	some name, _ in options
	lower(trim_space(name)) == "com.docker.network.bridge.name"
	msg := denial("network_options", "choosing the host bridge of a network is not allowed (com.docker.network.bridge.name)")
}
