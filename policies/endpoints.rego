# Endpoint rules: API routes that are refused outright or for some of their
# parameters, and requests the policy cannot judge (fail closed).
package docker.authz

import rego.v1

# ---------------------------------------------------------------------------
# Requests the policy cannot judge.

# METADATA
# custom:
#   id: path
deny contains msg if {
	not _request_path
	msg := _denial(rego.metadata.rule(), "the request has no path to authorize")
}

# METADATA
# custom:
#   id: path
deny contains msg if {
	not _method
	msg := _denial(rego.metadata.rule(), "the request has no method to authorize")
}

# The daemon never runs a handler for a path with empty, "." or ".."
# segments (it redirects to the cleaned path), and no client sends one.
# METADATA
# custom:
#   id: path
deny contains msg if {
	_path_not_canonical
	msg := _denial(rego.metadata.rule(), sprintf(
		"request path %s is not canonical (empty, \".\" or \"..\" segments)",
		[_show(_request_path)],
	))
}

# (Canonical: absolute, without "//", "." or ".." names, as _plain_path.)
_path_not_canonical if not _plain_path(_request_path)

# Endpoints whose JSON body the rules inspect. Docker forwards a body to the
# plugin only when it is application/json, not chunked and under 1 MiB; any
# other body is null here, and the request is refused rather than judged
# blind.
_body_inspected if _container_create

_body_inspected if _container_exec

_body_inspected if _container_update

_body_inspected if _volume_create

_body_inspected if _network_create

# METADATA
# custom:
#   id: body_required
deny contains msg if {
	_body_inspected
	not is_object(input.Body)
	msg := _denial(rego.metadata.rule(), sprintf(
		concat(" ", [
			"%s %s needs a JSON object body that the authorization plugin can read (Docker forwards none when the body is",
			"missing, not application/json, chunked, or 1 MiB or more)",
		]),
		[_method, _request_path],
	))
}

# The daemon reads query parameters with Go's FormValue, which also reads
# them from a form-encoded body that Docker never forwards to the plugin.
# METADATA
# custom:
#   id: form_body
deny contains msg if {
	some name, value in input.Headers
	lower(name) == "content-type"
	regex.match(`application/x-www-form-urlencoded|multipart/form-data`, lower(value))
	msg := _denial(
		rego.metadata.rule(),
		"form-encoded request bodies are not allowed (the daemon would read parameters from them that the policy cannot see)",
	)
}

# Old API versions accept settings later versions refuse (a HostConfig in
# POST /containers/{id}/start, before 1.24). The daemon's version middleware
# runs after the authorization one, so the version is checked here.
# METADATA
# custom:
#   id: api_version
deny contains msg if {
	_version_less(_api_version, _minimum_api_version)
	msg := _denial(rego.metadata.rule(), sprintf(
		"API version %s is not allowed (%s or later is required)",
		[_api_version, _minimum_api_version],
	))
}

default _minimum_api_version := "1.24"

_minimum_api_version := version if {
	version := _setting("min_api_version", "1.24")
	is_string(version)
}

# _version_less compares versions the way the daemon does: dot-separated
# numbers, missing or unparsable parts (Go's Atoi fails above 2^63-1) as 0.
# Arrays of numbers of the same length compare like that; a shorter one is
# padded with zeros first.
_version_less(a, b) if {
	left := _version_numbers(a)
	right := _version_numbers(b)
	count(left) == count(right)
	left < right
}

_version_less(a, b) if {
	left := _version_numbers(a)
	right := _version_numbers(b)
	count(left) != count(right)
	_zero_padded(left, right) < _zero_padded(right, left)
}

# Parts of at most 18 digits are numbers below 2^63-1.
_version_numbers(version) := [to_number(part) | some part in split(version, ".")] if {
	regex.match(`^[0-9]{1,18}(\.[0-9]{1,18})*$`, version)
} else := [_version_number(part) | some part in split(version, ".")]

default _version_number(_) := 0

_version_number(part) := number if {
	regex.match(`^[0-9]+$`, part)
	number := to_number(part)
	number <= 9223372036854775807
}

# _zero_padded: parts, with zeros appended up to the length of other.
_zero_padded(parts, other) := array.concat(parts, [0 | some _ in array.slice(other, count(parts), count(other))])

# ---------------------------------------------------------------------------
# Plugins: the authorization plugin is one, and a disabled, removed or
# reconfigured one checks nothing. Listing and inspecting stay allowed.

# METADATA
# custom:
#   id: plugins
deny contains msg if {
	_route[0] == "plugins"
	not _read_only_method
	msg := _denial(
		rego.metadata.rule(),
		"installing, enabling, disabling, configuring, upgrading, pushing or removing plugins is not allowed",
	)
}

# ---------------------------------------------------------------------------
# Swarm: services' tasks are created by the orchestrator without passing
# through authorization, and joining a swarm lets its managers schedule
# them here.

# METADATA
# custom:
#   id: swarm
deny contains msg if {
	_route[0] in {"swarm", "services", "nodes"}
	not _read_only_method
	msg := _denial(
		rego.metadata.rule(),
		"swarm changes are not allowed (swarm init/join/update, services, nodes): swarm tasks bypass authorization",
	)
}

# ---------------------------------------------------------------------------
# Builds.

# /session and /grpc upgrade the connection to BuildKit's gRPC API, whose
# build requests (entitlements such as security.insecure and network.host,
# RUN --network=host) the plugin never sees.
# METADATA
# custom:
#   id: buildkit_session
deny contains msg if {
	_route[0] in {"session", "grpc"}
	msg := _denial(rego.metadata.rule(), sprintf(
		"/%s (BuildKit's gRPC API) is not allowed: builds go through POST /build (DOCKER_BUILDKIT=0)",
		[_route[0]],
	))
}

# METADATA
# custom:
#   id: build_network
deny contains msg if {
	_image_build
	some mode in _query_values("networkmode")
	_host_or_container_mode(mode)
	msg := _denial(rego.metadata.rule(), sprintf("builds on network %s are not allowed", [_show(mode)]))
}

# METADATA
# custom:
#   id: cgroup_parent
deny contains msg if {
	_image_build
	some parent in _query_values("cgroupparent")
	parent != ""
	msg := _denial(rego.metadata.rule(), sprintf(
		"choosing the parent cgroup is not allowed (cgroupparent %s)",
		[_show(parent)],
	))
}

# A remote build context or import source is fetched by the daemon, from the
# host's network (its loopback and metadata services included).
# METADATA
# custom:
#   id: remote_context
deny contains msg if {
	_image_build
	some remote in _query_values("remote")
	not remote in {"", "client-session"}
	msg := _denial(rego.metadata.rule(), sprintf(
		"remote build contexts are not allowed (remote %s): send the context instead",
		[_show(remote)],
	))
}

# METADATA
# custom:
#   id: remote_context
deny contains msg if {
	_image_create
	some source in _query_values("fromsrc")
	not source in {"", "-"}
	msg := _denial(rego.metadata.rule(), sprintf(
		"importing from a URL is not allowed (fromSrc %s): send the archive instead",
		[_show(source)],
	))
}

# ---------------------------------------------------------------------------
# Checkpoints (experimental): CRIU dumps to and restores from a host folder
# the request names.

# METADATA
# custom:
#   id: checkpoint
deny contains msg if {
	_container_action == "checkpoints"
	msg := _denial(rego.metadata.rule(), "creating checkpoints is not allowed")
}

# METADATA
# custom:
#   id: checkpoint
deny contains msg if {
	_container_start
	some name in ["checkpoint", "checkpoint-dir"]
	some value in _query_values(name)
	value != ""
	msg := _denial(rego.metadata.rule(), "starting from a checkpoint is not allowed")
}

# ---------------------------------------------------------------------------
# Networks: drivers other than bridge put containers on the host's
# interfaces (macvlan, ipvlan) or need a swarm.

# METADATA
# custom:
#   id: network_driver
deny contains msg if {
	_network_create
	some driver in _body_values("Driver")
	not driver in {null, ""}
	not driver in _setting("network_drivers", ["bridge"])
	msg := _denial(rego.metadata.rule(), sprintf("network driver %s is not allowed", [_show(driver)]))
}

# A bridge network on an existing host bridge plugs containers into it.
# METADATA
# custom:
#   id: network_options
deny contains msg if {
	_network_create
	some options in _body_values("Options")
	is_object(options)
	some name, _ in options
	lower(trim_space(name)) == "com.docker.network.bridge.name"
	msg := _denial(
		rego.metadata.rule(),
		"choosing the host bridge of a network is not allowed (com.docker.network.bridge.name)",
	)
}
