# The authorization policy of HardenedDockerHost: the decision, the named
# exceptions, and the helpers every rule file shares (how a request is routed,
# how its JSON body is read). The rules themselves live beside this file:
# containers.rego, mounts.rego, exec.rego and endpoints.rego.
#
# The input is the one of opa-docker-authz v0.10 (see plugin/README.md).
# Every rule refuses through a `deny` message that ends in "(rule NAME)"; a
# request is allowed when no message is left.
package docker.authz

import rego.v1

default allow := false

allow if count(deny) == 0

# ---------------------------------------------------------------------------
# Configuration: data.docker.authz_config (defaults in data.json, documented
# in README.md). A missing key falls back to the strictest value.

default _config := {}

_config := value if {
	value := data.docker.authz_config
	is_object(value)
}

_setting(key, fallback) := object.get(_config, key, fallback)

# ---------------------------------------------------------------------------
# Named exceptions. Docker names the caller only when it authenticated a TLS
# client certificate; over the unix socket every caller is anonymous.

_identity := input.User if {
	input.AuthMethod == "TLS"
	is_string(input.User)
	input.User != ""
}

# Trusted identities (operators) are refused nothing.
_trusted if _identity in _setting("trusted_users", [])

_excepted(_) if _trusted

_excepted(rule) if {
	some exception in _setting("exceptions", [])
	_identity in object.get(exception, "users", [])
	rule in object.get(exception, "rules", [])
}

# _denial is the message of a refusal by the rule whose annotations are rule
# (rego.metadata.rule(): its id is in # METADATA, custom.id), unless the caller
# is excepted from that rule (then it is undefined and the rule refuses
# nothing). An evaluator that drops annotations still refuses, as "unnamed".
_denial(rule, text) := sprintf("%s (rule %s)", [text, id]) if {
	id := object.get(rule, ["custom", "id"], "unnamed")
	not _excepted(id)
}

# show renders a value of the request for a message.
_show(value) := json.marshal(value)

# ---------------------------------------------------------------------------
# Routing. The daemon routes the decoded path (input.PathPlain) with
# gorilla/mux, with or without a /v<version> prefix, case-sensitively, and
# answers a path with empty, "." or ".." segments with a redirect instead of
# running a handler. Here segments are matched lowercased and a trailing slash
# is ignored: that only makes more requests match a rule, never fewer.

_method := upper(input.Method)

_read_only_method if _method in {"GET", "HEAD"}

_request_path := input.PathPlain if is_string(input.PathPlain)

# The non-empty segments, lowercased (lowering the path lowers each one).
_segments := regex.find_n(`[^/]+`, lower(_request_path), -1)

_versioned if regex.match(`^v[0-9.]+$`, _segments[0])

_api_version := substring(_segments[0], 1, -1) if _versioned

_route := array.slice(_segments, 1, count(_segments)) if {
	_versioned
} else := _segments

_route_last := _route[count(_route) - 1]

# _post_route is the route of a POST request: the endpoints below all are.
_post_route := _route if _method == "POST"

# A container action: POST /containers/{name}/<action> (a name may hold
# "/"); _container_action is the action.
_container_action := _route_last if {
	count(_post_route) >= 3
	_route[0] == "containers"
}

_container_create if _post_route == ["containers", "create"]

_container_update if _container_action == "update"

_container_exec if _container_action == "exec"

_container_start if _container_action == "start"

_volume_create if _post_route == ["volumes", "create"]

_network_create if _post_route == ["networks", "create"]

_image_build if _post_route == ["build"]

_image_create if _post_route == ["images", "create"]

# _query_values lists the values of a query parameter. The daemon reads
# parameters by exact name; any spelling is taken here.
_query_values(name) := [value |
	some key, values in input.Query
	lower(key) == name
	some value in _string_list(values)
]

# ---------------------------------------------------------------------------
# Reading JSON bodies. The daemon decodes them with Go's encoding/json, which
# matches object keys to struct fields case-insensitively ("hostconfig",
# "PRIVILEGED", "ſecurityOpt" with a long s) and lets the last of duplicate
# keys win. The helpers below return the values of every key that the daemon
# would match to a field, so a rule sees every spelling a request uses.

# fields reads a (small, nested) object: a mount, a log configuration.
_fields(document, name) := [value |
	is_object(document)
	folded := _fold(name)
	some key, value in document
	_fold(key) == folded
]

# fold maps a key onto the form Go compares: ASCII case ignored, and the
# Kelvin sign and the long s folded onto K and S, as Unicode simple folding
# does for ASCII letters.
_fold(key) := upper(lower(key))

# The body and its host configurations are large: their keys spelled as the
# API documents them (_documented_keys, what clients send) are read directly;
# only the other keys ("odd" keys, none in a usual request) are folded, once
# per request, and each that folds onto a documented key is read as a
# one-field object under the documented name (a "respelling"). A rule thus
# reads a field by its documented name in every document of a list. This is
# exact because no two documented keys fold alike (a test checks it) and
# rules ask for fields by their documented names.

# _body_odd_fields: the body's fields with odd keys.
_body_odd_fields := object.remove(input.Body, _documented_keys) if is_object(input.Body)

# _body_documents: the body (an object) and its respellings.
_body_documents := array.concat([input.Body], _respellings(_body_odd_fields)) if is_object(input.Body)

_body_values(field) := [value | some document in _body_documents; value := document[field]]

# respellings lists {documented name: value} for each of odd_fields (a
# document's fields with odd keys) whose key folds onto a documented key.
_respellings(odd_fields) := [{name: value} |
	some key, value in odd_fields
	name := _documented_names[_fold(key)]
]

# (Evaluated only when a body has odd keys.)
_documented_names := {_fold(key): key | some key in _documented_keys}

# ---------------------------------------------------------------------------
# Host configurations of a request: HostConfig in a create body (every
# spelling), the top level of a create body (daemons before 25.0 still read
# HostConfig fields there when HostConfig is absent) and an update body.
# _host_configs lists them with their respellings: rules read a field with
#   some host_config in _host_configs
#   value := host_config.Field

_host_configs := array.concat(_create_host_configs, _top_level_host_configs)

_create_host_configs := [document |
	_container_create
	some key in _host_config_keys
	host_config := input.Body[key]
	is_object(host_config)
	some document in array.concat([host_config], _respellings(object.remove(host_config, _documented_keys)))
]

_top_level_host_configs := _body_documents if {
	_host_config_at_top_level
} else := []

_host_config_keys contains "HostConfig"

_host_config_keys contains key if {
	some key, _ in _body_odd_fields
	_fold(key) == "HOSTCONFIG"
}

_host_config_at_top_level if _container_create

_host_config_at_top_level if _container_update

_documented_keys := {
	# container.Config, and the create request around it
	"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout",
	"AttachStderr", "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env",
	"Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir",
	"Entrypoint", "NetworkDisabled", "MacAddress", "OnBuild", "Labels",
	"StopSignal", "StopTimeout", "Shell", "HostConfig", "NetworkingConfig",
	# container.HostConfig
	"Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings",
	"RestartPolicy", "AutoRemove", "VolumeDriver", "VolumesFrom",
	"ConsoleSize", "Annotations", "CapAdd", "CapDrop", "Capabilities",
	"CgroupnsMode", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts",
	"GroupAdd", "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode",
	"Privileged", "PublishAllPorts", "ReadonlyRootfs", "SecurityOpt",
	"StorageOpt", "Tmpfs", "UTSMode", "UsernsMode", "ShmSize", "Sysctls",
	"Runtime", "Isolation", "Mounts", "MaskedPaths", "ReadonlyPaths", "Init",
	# container.Resources (in HostConfig and update requests)
	"CpuShares", "Memory", "NanoCpus", "CgroupParent", "BlkioWeight",
	"BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
	"BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota",
	"CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems",
	"Devices", "DeviceCgroupRules", "DeviceRequests", "KernelMemory",
	"KernelMemoryTCP", "MemoryReservation", "MemorySwap", "MemorySwappiness",
	"OomKillDisable", "PidsLimit", "Ulimits", "CpuCount", "CpuPercent",
	"IOMaximumIOps", "IOMaximumBandwidth",
	# mount.Mount and its options, LogConfig
	"Target", "Source", "Type", "ReadOnly", "Consistency", "BindOptions",
	"VolumeOptions", "ImageOptions", "TmpfsOptions", "ClusterOptions",
	"Propagation", "NonRecursive", "CreateMountpoint", "ReadOnlyNonRecursive",
	"ReadOnlyForceRecursive", "NoCopy", "Subpath", "DriverConfig", "Name",
	"Options", "SizeBytes", "Mode", "Config",
	# exec, volume and network create requests
	"Detach", "DetachKeys", "Driver", "DriverOpts",
	"ClusterVolumeSpec", "CheckDuplicate", "Scope", "EnableIPv4",
	"EnableIPv6", "IPAM", "Internal", "Attachable", "Ingress", "ConfigOnly",
	"ConfigFrom",
}

# _string_list reads a list of strings, or a lone string (Docker's StrSlice
# fields accept both).
_string_list(value) := [value] if is_string(value)

_string_list(value) := [item | some item in value; is_string(item)] if is_array(value)

# _is_unset holds for the values the daemon reads as "not set".
_is_unset(value) if value in {null, "", [], {}}

# ---------------------------------------------------------------------------
# Users. The daemon takes the part before ":" as the user: digits name a UID
# whatever the image's /etc/passwd says, anything else is looked up there, and
# an image can map any name (or a number too large for Go's Atoi) to UID 0.
# Only a numeric UID in 1..2^31-1 is known not to be root.

_non_root_user(user) if {
	is_string(user)
	uid := split(user, ":")[0]
	regex.match(`^[0-9]+$`, uid)
	to_number(uid) > 0
	to_number(uid) <= 2147483647
}

# _requested_users lists the users the body names; a body that names none
# runs the default user ("").
_requested_users := users if {
	users := _body_values("User")
	count(users) > 0
} else := [""]
