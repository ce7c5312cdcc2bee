# Tests of authz.rego (decision, exceptions, routing, body reading), and the
# helpers and fixtures the other test files share.
package docker.authz_test

import data.docker.authz
import rego.v1

# ---------------------------------------------------------------------------
# Helpers

# request builds the input the plugin gives the policy for a request sent
# as-is (path with query, body already parsed), like plugin/internal/input.
_request(method, path, body) := {
	"Method": method,
	"Path": path,
	"PathPlain": _path_plain(path),
	"PathArr": split(_path_plain(path), "/"),
	"Query": _query_of(path),
	"Headers": _headers_for(body),
	"Body": body,
	"User": "",
	"AuthMethod": "",
	"BindMounts": _plugin_bind_mounts(body),
}

_path_plain(path) := urlquery.decode(split(path, "?")[0])

_query_of(path) := urlquery.decode_object(substring(path, indexof(path, "?") + 1, -1)) if contains(path, "?")

_query_of(path) := {} if not contains(path, "?")

_headers_for(null) := {"User-Agent": "Docker-Client/28.2.2 (linux)"}

_headers_for(body) := {"Content-Type": "application/json", "User-Agent": "Docker-Client/28.2.2 (linux)"} if body != null

# The plugin's BindMounts without a host root: Binds entries with an absolute
# source and Mounts entries of type bind, Resolved cleaned lexically.
_plugin_bind_mounts(body) := array.concat(
	[{"Source": parts[0], "ReadOnly": false, "Resolved": authz._clean_path(parts[0])} |
		some host_config in authz._fields(body, "HostConfig")
		some list in authz._fields(host_config, "Binds")
		some spec in authz._string_list(list)
		parts := split(spec, ":")
		count(parts) >= 2
		startswith(parts[0], "/")
	],
	[{"Source": source, "ReadOnly": false, "Resolved": authz._clean_path(source)} |
		some host_config in authz._fields(body, "HostConfig")
		some list in authz._fields(host_config, "Mounts")
		some mount in list
		some type in authz._fields(mount, "Type")
		lower(type) == "bind"
		some source in authz._fields(mount, "Source")
	],
)

# rules_denying lists the rules named by the deny messages for a request.
_rules_denying(request_input) := {rule |
	messages := authz.deny with input as request_input
	some message in messages
	rule := regex.find_all_string_submatch_n(`\(rule ([a-z_]+)\)$`, message, 1)[0][1]
}

# denied_by: the request is refused, and rule is among the reasons.
_denied_by(rule, request_input) if {
	rule in _rules_denying(request_input)
	not authz.allow with input as request_input
}

# allowed: no rule refuses the request.
_allowed(request_input) if {
	authz.allow with input as request_input
	count(_rules_denying(request_input)) == 0
}

_create(body) := _request("POST", "/v1.41/containers/create", body)

# create_with: the docker CLI 28 body for `docker create -u 1000 alpine true`
# with the HostConfig fields in host_config changed.
_create_with(host_config) := _create(object.union(_cli28_create_body, {"HostConfig": host_config}))

_with_config(overrides) := object.union(data.docker.authz_config, overrides)

# ---------------------------------------------------------------------------
# Fixtures: request bodies as the docker CLI sends them.

# docker create -u 1000 alpine true (docker CLI 28.2.2, API 1.41)
_cli28_create_body := {
	"Hostname": "", "Domainname": "", "User": "1000",
	"AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
	"Tty": false, "OpenStdin": false, "StdinOnce": false,
	"Env": null, "Cmd": ["true"], "Image": "alpine", "Volumes": {},
	"WorkingDir": "", "Entrypoint": null, "OnBuild": null, "Labels": {},
	"HostConfig": {
		"Binds": null, "ContainerIDFile": "",
		"LogConfig": {"Type": "", "Config": {}},
		"NetworkMode": "default", "PortBindings": {},
		"RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
		"AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null,
		"ConsoleSize": [0, 0], "CapAdd": null, "CapDrop": null,
		"CgroupnsMode": "", "Dns": [], "DnsOptions": [], "DnsSearch": [],
		"ExtraHosts": null, "GroupAdd": null, "IpcMode": "", "Cgroup": "",
		"Links": null, "OomScoreAdj": 0, "PidMode": "", "Privileged": false,
		"PublishAllPorts": false, "ReadonlyRootfs": false, "SecurityOpt": null,
		"UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "",
		"CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "",
		"BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [],
		"BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [],
		"BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0,
		"CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "",
		"CpusetMems": "", "Devices": [], "DeviceCgroupRules": null,
		"DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0,
		"MemorySwappiness": -1, "OomKillDisable": false, "PidsLimit": 0,
		"Ulimits": [], "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0,
		"IOMaximumBandwidth": 0, "MaskedPaths": null, "ReadonlyPaths": null,
	},
	"NetworkingConfig": {"EndpointsConfig": {"default": {
		"IPAMConfig": null, "Links": null, "Aliases": null, "MacAddress": "",
		"DriverOpts": null, "GwPriority": 0, "NetworkID": "", "EndpointID": "",
		"Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
		"GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null,
	}}},
}

# docker run -d --rm -u 65534:65534 --network none busybox true (the
# component's canary; docker CLI 28.2.2)
_cli28_canary_body := object.union(_cli28_create_body, {
	"User": "65534:65534", "AttachStdout": false, "AttachStderr": false,
	"Image": "busybox",
	"HostConfig": {"NetworkMode": "none", "AutoRemove": true},
	"NetworkingConfig": {"EndpointsConfig": {}},
})

# docker run -it -u 1000:1000 -v appdata:/data -p 8080:80 nginx (docker CLI
# 20.10.24, API 1.41)
_cli2010_run_body := {
	"Hostname": "", "Domainname": "", "User": "1000:1000",
	"AttachStdin": true, "AttachStdout": true, "AttachStderr": true,
	"ExposedPorts": {"80/tcp": {}}, "Tty": true, "OpenStdin": true,
	"StdinOnce": true, "Env": null, "Cmd": null, "Image": "nginx",
	"Volumes": {}, "WorkingDir": "", "Entrypoint": null, "OnBuild": null,
	"Labels": {},
	"HostConfig": {
		"Binds": ["appdata:/data"], "ContainerIDFile": "",
		"LogConfig": {"Type": "", "Config": {}}, "NetworkMode": "default",
		"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
		"RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
		"AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null,
		"CapAdd": null, "CapDrop": null, "CgroupnsMode": "", "Dns": [],
		"DnsOptions": [], "DnsSearch": [], "ExtraHosts": null,
		"GroupAdd": null, "IpcMode": "", "Cgroup": "", "Links": null,
		"OomScoreAdj": 0, "PidMode": "", "Privileged": false,
		"PublishAllPorts": false, "ReadonlyRootfs": false,
		"SecurityOpt": null, "UTSMode": "", "UsernsMode": "", "ShmSize": 0,
		"ConsoleSize": [0, 0], "Isolation": "", "CpuShares": 0, "Memory": 0,
		"NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
		"BlkioWeightDevice": [], "BlkioDeviceReadBps": null,
		"BlkioDeviceWriteBps": null, "BlkioDeviceReadIOps": null,
		"BlkioDeviceWriteIOps": null, "CpuPeriod": 0, "CpuQuota": 0,
		"CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "",
		"CpusetMems": "", "Devices": [], "DeviceCgroupRules": null,
		"DeviceRequests": null, "KernelMemory": 0, "KernelMemoryTCP": 0,
		"MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": null,
		"OomKillDisable": false, "PidsLimit": null, "Ulimits": null,
		"CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0,
		"IOMaximumBandwidth": 0, "MaskedPaths": null, "ReadonlyPaths": null,
	},
	"NetworkingConfig": {"EndpointsConfig": {}},
}

# docker exec -u 1000 web ls (docker CLI 28.2.2)
_cli28_exec_body := {
	"User": "1000", "Privileged": false, "Tty": false,
	"AttachStdin": false, "AttachStderr": true, "AttachStdout": true,
	"Detach": false, "DetachKeys": "", "Env": null, "WorkingDir": "",
	"Cmd": ["ls"],
}

# docker update --memory 100m web (docker CLI 28.2.2)
_cli28_update_body := {
	"CpuShares": 0, "Memory": 104857600, "NanoCpus": 0, "CgroupParent": "",
	"BlkioWeight": 0, "BlkioWeightDevice": null, "BlkioDeviceReadBps": null,
	"BlkioDeviceWriteBps": null, "BlkioDeviceReadIOps": null,
	"BlkioDeviceWriteIOps": null, "CpuPeriod": 0, "CpuQuota": 0,
	"CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "",
	"CpusetMems": "", "Devices": null, "DeviceCgroupRules": null,
	"DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0,
	"MemorySwappiness": null, "OomKillDisable": null, "PidsLimit": null,
	"Ulimits": null, "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0,
	"IOMaximumBandwidth": 0, "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
}

# ---------------------------------------------------------------------------
# The decision

test_everyday_reads_allowed if {
	every path in [
		"/_ping", "/v1.41/_ping", "/v1.41/version", "/v1.41/info",
		"/v1.41/events?since=1700000000&until=1700000060",
		"/v1.41/containers/json?all=1", "/v1.41/images/json",
		"/v1.41/volumes", "/v1.41/networks", "/v1.41/containers/web/json",
		"/v1.41/containers/web/logs?stderr=1&stdout=1&tail=all",
		"/v1.41/images/alpine/json", "/v1.41/system/df",
		"/v1.41/containers/web/top", "/v1.41/plugins",
	] {
		_allowed(_request("GET", path, null))
	}
	_allowed(_request("HEAD", "/_ping", null))
}

test_everyday_container_lifecycle_allowed if {
	_allowed(_create(_cli28_create_body))
	_allowed(_create(_cli28_canary_body))
	_allowed(_request("POST", "/v1.41/containers/create?name=web", _cli2010_run_body))
	every path in [
		"/v1.41/containers/web/start", "/v1.41/containers/web/stop",
		"/v1.41/containers/web/restart", "/v1.41/containers/web/kill",
		"/v1.41/containers/web/wait?condition=removed",
		"/v1.41/containers/web/attach?stderr=1&stdin=1&stdout=1&stream=1",
		"/v1.41/containers/web/rename?name=web2", "/v1.41/containers/prune",
		"/v1.41/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=latest",
		"/v1.41/images/alpine/tag?repo=mine&tag=1", "/v1.41/exec/e1/resize?h=24&w=80",
	] {
		_allowed(_request("POST", path, null))
	}
	_allowed(_request("POST", "/v1.41/images/mine/push?tag=1", null))
	_allowed(_request("POST", "/v1.41/commit?container=web&repo=mine&tag=2", {"Cmd": ["sh"], "User": "", "Env": null}))
	_allowed(_request("GET", "/v1.41/containers/web/archive?path=%2Fdata", null))
	_allowed(_request("HEAD", "/v1.41/containers/web/archive?path=%2Fdata", null))
	_allowed(_request("DELETE", "/v1.41/containers/web?force=1", null))
	_allowed(_request("DELETE", "/v1.41/images/alpine", null))
	_allowed(_request("POST", "/v1.41/containers/web/update", _cli28_update_body))
}

test_no_input_is_denied if {
	not authz.allow with input as {}
	_denied_by("path", {})
}

test_deny_messages_name_their_rule if {
	messages := authz.deny with input as _create_with({"Privileged": true})
	"privileged containers are not allowed (rule privileged)" in messages
}

# ---------------------------------------------------------------------------
# Named exceptions

_privileged_by(user, method) := object.union(_create_with({"Privileged": true}), {"User": user, "AuthMethod": method})

test_trusted_identity_bypasses_every_rule if {
	request_input := _privileged_by("admin", "TLS")
	authz.allow with input as request_input with data.docker.authz_config as _with_config({"trusted_users": ["admin"]})
	messages := authz.deny
		with input as request_input
		with data.docker.authz_config as _with_config({"trusted_users": ["admin"]})
	count(messages) == 0
}

test_trusted_identity_needs_tls if {
	not authz.allow
		with input as _privileged_by("admin", "")
		with data.docker.authz_config as _with_config({"trusted_users": ["admin"]})
}

test_untrusted_identity_is_denied if {
	not authz.allow
		with input as _privileged_by("alice", "TLS")
		with data.docker.authz_config as _with_config({"trusted_users": ["admin"]})
}

test_exception_waives_only_its_rules if {
	config := _with_config({"exceptions": [{"users": ["ci"], "rules": ["build_network"]}]})
	_build := object.union(
		_request("POST", "/v1.41/build?networkmode=host&t=x", null),
		{"User": "ci", "AuthMethod": "TLS"},
	)
	authz.allow with input as _build with data.docker.authz_config as config
	not authz.allow with input as object.union(_build, {"User": "bob"}) with data.docker.authz_config as config
	not authz.allow with input as _privileged_by("ci", "TLS") with data.docker.authz_config as config
}

# Rules name themselves from their annotations (# METADATA, custom.id); where
# an evaluator drops them, a rule still refuses, as "unnamed", and no
# exception waives it.
test_denial_names_the_rule_of_its_annotations if {
	authz._denial({"custom": {"id": "privileged"}}, "no") == "no (rule privileged)"
	authz._denial({}, "no") == "no (rule unnamed)"
	config := _with_config({"exceptions": [{"users": ["ci"], "rules": ["privileged"]}]})
	ci := {"User": "ci", "AuthMethod": "TLS"}
	not authz._denial({"custom": {"id": "privileged"}}, "no") with input as ci with data.docker.authz_config as config
	authz._denial({}, "no") == "no (rule unnamed)" with input as ci with data.docker.authz_config as config
}

test_missing_configuration_is_strictest if {
	bind := _create_with({"Binds": ["/etc/localtime:/etc/localtime:ro"]})
	_allowed(bind)
	not authz.allow with input as bind with data.docker.authz_config as "broken"
	sysctl := _create_with({"Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"}})
	not authz.allow with input as sysctl with data.docker.authz_config as {}
}

# ---------------------------------------------------------------------------
# Routing and body reading

_route_of(path) := route if {
	route := authz._route with input as _request("GET", path, null)
}

test_routes_with_and_without_version_prefix if {
	_route_of("/v1.41/containers/create") == ["containers", "create"]
	_route_of("/containers/create") == ["containers", "create"]
	_route_of("/v1.41/containers/create/?x=1") == ["containers", "create"]
	_route_of("/V1.41/Containers/CREATE") == ["containers", "create"]
	_route_of("/v1.41/%63ontainers/create") == ["containers", "create"]
	_route_of("/v1.41") == []
	_route_of("/") == []
}

test_container_actions_allow_names_with_slashes if {
	authz._container_exec with input as _request("POST", "/v1.41/containers/a/b/exec", null)
	not authz._container_exec with input as _request("GET", "/v1.41/containers/a/exec", null)
	not authz._container_exec with input as _request("POST", "/v1.41/exec", null)
}

test_fields_match_keys_like_go if {
	values := authz._fields({"HostConfig": 1, "hostconfig": 2, "HOSTCONFIG": 3, "Host_Config": 4}, "HostConfig")
	sort(values) == [1, 2, 3]
	authz._fields({"\u017fecurityOpt": 1}, "SecurityOpt") == [1]
	authz._fields({"\u212aey": 1}, "Key") == [1]
	authz._fields(null, "Key") == []
	authz._fields(["Key"], "Key") == []
}

test_string_list if {
	authz._string_list("a") == ["a"]
	authz._string_list(["a", 1, "b"]) == ["a", "b"]
	not authz._string_list(null)
}

test_query_values_any_key_spelling if {
	values := authz._query_values("networkmode")
		with input as _request("POST", "/build?NetworkMode=host&networkmode=none", null)
	sort(values) == ["host", "none"]
}

test_non_root_user if {
	every user in ["1", "1000", "1000:1000", "1000:0", "65534:65534", "0001", "2147483647"] {
		authz._non_root_user(user)
	}
	every user in [
		"", "0", "00", "0:0", "root", "root:1000", ":1000", "+1", "-1", " 1000", "1000 ", "nobody", "2147483648",
		"18446744073709551616", 1000, null,
	] {
		not authz._non_root_user(user)
	}
}

test_requested_users if {
	users := authz._requested_users with input as {"Body": {"User": "1", "user": "2"}}
	sort(users) == ["1", "2"]
	authz._requested_users == [""] with input as {"Body": {}}
	authz._requested_users == [""] with input as {"Body": null}
}

# The direct lookups of _body_values and _host_configs are exact only if
# no two documented keys fold alike and the rules ask for documented names.
test_documented_keys_fold_apart if {
	folded := {authz._fold(key) | some key in authz._documented_keys}
	count(folded) == count(authz._documented_keys)
}

test_rules_read_documented_fields if {
	used := {
		"Annotations", "Binds", "CapAdd", "Capabilities", "Cgroup",
		"CgroupnsMode", "CgroupParent", "DeviceCgroupRules", "DeviceRequests",
		"Devices", "Driver", "DriverOpts", "HostConfig", "IpcMode", "LogConfig",
		"MaskedPaths", "Mounts", "NetworkMode", "Options", "PidMode",
		"Privileged", "ReadonlyPaths", "Runtime", "SecurityOpt", "Sysctls",
		"User", "UsernsMode", "UTSMode", "VolumesFrom",
	}
	count(used - authz._documented_keys) == 0
	every field, _ in authz._private_namespace_modes {
		field in used
	}
}

test_undocumented_spellings_are_read if {
	body := {
		"Image": "alpine", "User": "1000",
		"hostConfig": {"\u017fecurityOpt": ["seccomp=unconfined"], "PRIVILEGED": true},
	}
	_denied_by("seccomp", _create(body))
	_denied_by("privileged", _create(body))
	_denied_by("root_user", _create({"Image": "alpine", "U\u017fer": "0", "User": "1000"}))
}
