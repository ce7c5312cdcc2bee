# Tests of endpoints.rego.
package docker.authz_test

import data.docker.authz
import rego.v1

# ---------------------------------------------------------------------------
# path

test_missing_path_denied if {
	_denied_by("path", object.remove(_request("GET", "/_ping", null), ["PathPlain"]))
	_denied_by("path", object.union(_request("GET", "/_ping", null), {"PathPlain": 42}))
	_denied_by("path", object.remove(_request("GET", "/_ping", null), ["Method"]))
}

test_non_canonical_paths_denied if {
	every path in [
		"//containers/create", "/v1.41//containers/create",
		"/v1.41/./containers/create", "/v1.41/containers/x/../../plugins/p/disable",
		"/v1.41/containers/x/..", "containers/create",
	] {
		_denied_by("path", object.union(_request("GET", "/x", null), {"PathPlain": path}))
	}
}

# Every spelling that reaches containers/create is judged as one.
test_create_path_spellings_judged_alike if {
	body := object.union(_cli28_create_body, {"HostConfig": {"Privileged": true}})
	every path in [
		"/containers/create", "/v1.41/containers/create?name=x",
		"/v1.41/containers/create/", "/v1.24/containers/create",
		"/v1.41/%63ontainers/cr%65ate", "/v1.41/containers%2Fcreate",
		"/V1.41/CONTAINERS/CREATE",
	] {
		_denied_by("privileged", _request("POST", path, body))
	}
}

# ---------------------------------------------------------------------------
# body_required, form_body

test_body_required_denied if {
	every path in [
		"/v1.41/containers/create", "/v1.41/containers/web/exec",
		"/v1.41/containers/web/update", "/v1.41/volumes/create",
		"/v1.41/networks/create",
	] {
		_denied_by("body_required", _request("POST", path, null))
		_denied_by("body_required", _request("POST", path, ["not", "an", "object"]))
	}
}

test_bodiless_endpoints_allowed if {
	_allowed(_request("POST", "/v1.41/containers/web/start", null))
	_allowed(object.union(
		_request("POST", "/v1.41/build?t=x&version=1", null),
		{"Headers": {"Content-Type": "application/x-tar"}},
	))
	_allowed(_request("POST", "/v1.41/images/load?quiet=1", null))
	_allowed(_request("PUT", "/v1.41/containers/web/archive?path=%2Ftmp", null))
}

test_form_bodies_denied if {
	form := object.union(
		_request("POST", "/v1.41/build?t=x", null),
		{"Headers": {"Content-Type": "application/x-www-form-urlencoded"}},
	)
	_denied_by("form_body", form)
	multipart := object.union(
		_request("POST", "/v1.41/build?t=x", null),
		{"Headers": {"content-type": "Multipart/Form-Data; boundary=x"}},
	)
	_denied_by("form_body", multipart)
}

# ---------------------------------------------------------------------------
# _api_version

test_old_api_versions_denied if {
	# API < 1.24 applies a HostConfig sent to start
	_denied_by("api_version", _request("POST", "/v1.23/containers/web/start", {"Privileged": true}))
	_denied_by("api_version", _request("GET", "/v1.12/containers/json", null))
	_denied_by("api_version", _request("GET", "/v1/containers/json", null))
	_denied_by("api_version", _request("GET", "/v./containers/json", null))

	# the daemon's Atoi reads an out-of-range part as 0
	_denied_by("api_version", _request("GET", "/v1.99999999999999999999/containers/json", null))
}

test_current_api_versions_allowed if {
	every path in ["/v1.24/version", "/v1.41/version", "/v1.41.0/version", "/v1.051/version", "/v2/version", "/version"] {
		_allowed(_request("GET", path, null))
	}
}

test_minimum_api_version_configurable if {
	_denied_by("api_version", _request("GET", "/v1.30/version", null))
		with data.docker.authz_config as _with_config({"min_api_version": "1.40"})
	_allowed(_request("GET", "/v1.23/version", null))
		with data.docker.authz_config as _with_config({"min_api_version": "1.12"})
	_denied_by("api_version", _request("GET", "/v1.23/version", null))
		with data.docker.authz_config as _with_config({"min_api_version": 1.12})
}

test_version_less if {
	authz._version_less("1.23", "1.24")
	authz._version_less("1.4", "1.24")
	authz._version_less("1", "1.24")
	authz._version_less("0.99", "1")
	not authz._version_less("1.24", "1.24")
	not authz._version_less("1.24.0", "1.24")
	not authz._version_less("1.41", "1.24")
	not authz._version_less("2", "1.24")
}

# ---------------------------------------------------------------------------
# plugins

test_plugin_changes_denied if {
	every path in [
		"/v1.41/plugins/pull?remote=evil%2Fauthz&name=evil",
		"/v1.41/plugins/hdh-authz/enable?timeout=30",
		"/v1.41/plugins/hdh-authz:latest/disable?force=1",
		"/v1.41/plugins/hdh-authz/set",
		"/v1.41/plugins/hdh-authz/upgrade?remote=evil%2Fauthz",
		"/v1.41/plugins/hdh-authz/push",
		"/v1.41/plugins/create?name=evil",
		"/plugins/hdh-authz/disable",
	] {
		_denied_by("plugins", _request("POST", path, null))
	}
	_denied_by("plugins", _request("POST", "/v1.41/plugins/hdh-authz/set", ["args=-quiet"]))
	_denied_by("plugins", _request("DELETE", "/v1.41/plugins/hdh-authz?force=1", null))
	_denied_by("plugins", _request("PUT", "/v1.41/plugins/hdh-authz/set", null))
}

test_plugin_reads_allowed if {
	_allowed(_request("GET", "/v1.41/plugins", null))
	_allowed(_request("GET", "/v1.41/plugins/hdh-authz/json", null))
	_allowed(_request("GET", "/v1.41/plugins/privileges?remote=x", null))
}

# ---------------------------------------------------------------------------
# swarm

test_swarm_changes_denied if {
	every path in [
		"/v1.41/swarm/init", "/v1.41/swarm/join", "/v1.41/swarm/update?version=1",
		"/v1.41/swarm/leave?force=1", "/v1.41/swarm/unlock",
		"/v1.41/services/create", "/v1.41/services/web/update?version=3",
		"/v1.41/nodes/n1/update?version=2",
	] {
		_denied_by("swarm", _request("POST", path, {"Name": "x"}))
	}
	_denied_by("swarm", _request("DELETE", "/v1.41/services/web", null))
}

test_swarm_reads_allowed if {
	_allowed(_request("GET", "/v1.41/swarm", null))
	_allowed(_request("GET", "/v1.41/services", null))
	_allowed(_request("GET", "/v1.41/nodes", null))
}

# ---------------------------------------------------------------------------
# buildkit_session, build_network, cgroup_parent, remote_context

test_buildkit_session_denied if {
	every path in ["/session", "/grpc", "/v1.41/session", "/v1.41/grpc"] {
		_denied_by("buildkit_session", _request("POST", path, null))
	}
}

_build(query) := object.union(
	_request("POST", concat("", ["/v1.41/build?", query]), null),
	{"Headers": {"Content-Type": "application/x-tar"}},
)

test_build_network_denied if {
	every query in [
		"networkmode=host", "networkmode=HOST", "t=x&networkmode=default&networkmode=host", "NetworkMode=host",
		"networkmode=container:web",
	] {
		_denied_by("build_network", _build(query))
	}
}

test_builds_allowed if {
	# docker build -t x ctx (classic builder; docker CLI 28.2.2)
	_allowed(_build("dockerfile=Dockerfile&t=x&version=1"))
	every query in [
		"networkmode=default", "networkmode=none", "networkmode=bridge", "extrahosts=db%3A10.0.0.2",
		"buildargs=%7B%22A%22%3A%221%22%7D&remote=client-session&session=s1&version=2",
	] {
		_allowed(_build(query))
	}
}

test_build_cgroup_parent_denied if {
	_denied_by("cgroup_parent", _build("cgroupparent=%2F"))
}

test_remote_contexts_denied if {
	_denied_by("remote_context", _build("remote=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data"))
	_denied_by("remote_context", _build("remote=https%3A%2F%2Fgithub.com%2Fx%2Fy.git"))
	_denied_by("remote_context", _build("remote=git%40github.com%3Ax%2Fy.git"))
	_denied_by(
		"remote_context",
		_request("POST", "/v1.41/images/create?fromSrc=http%3A%2F%2F127.0.0.1%3A8080%2Fsecret.tar&repo=x", null),
	)
}

test_image_imports_and_pulls_allowed if {
	_allowed(_request("POST", "/v1.41/images/create?fromSrc=-&repo=mine&tag=1", null))
	_allowed(_request("POST", "/v1.41/images/create?fromImage=localhost%3A5000%2Fhdh%2Fbusybox&tag=1", null))
}

# ---------------------------------------------------------------------------
# checkpoint

test_checkpoints_denied if {
	_denied_by(
		"checkpoint",
		_request("POST", "/v1.41/containers/web/checkpoints", {"CheckpointID": "c1", "CheckpointDir": "/etc/cron.d"}),
	)
	_denied_by("checkpoint", _request("POST", "/v1.41/containers/web/start?checkpoint=c1&checkpoint-dir=%2Fetc", null))
}

test_checkpoint_reads_allowed if {
	_allowed(_request("GET", "/v1.41/containers/web/checkpoints", null))
	_allowed(_request("POST", "/v1.41/containers/web/start?checkpoint=", null))
}

# ---------------------------------------------------------------------------
# network_driver, network_options

# docker network create n1 (docker CLI 28.2.2)
_cli28_network_body := {
	"Driver": "bridge", "Scope": "", "IPAM": {"Driver": "default", "Options": {}, "Config": []},
	"Internal": false, "Attachable": false, "Ingress": false, "ConfigOnly": false,
	"ConfigFrom": null, "Options": {}, "Labels": {}, "Name": "n1", "CheckDuplicate": true,
}

_network_create(overrides) := _request("POST", "/v1.41/networks/create", object.union(_cli28_network_body, overrides))

test_networks_allowed if {
	_allowed(_network_create({}))
	_allowed(_network_create({"Driver": "", "Internal": true}))
	_allowed(_network_create({"Options": {"com.docker.network.driver.mtu": "1400"}}))
	_allowed(_request("POST", "/v1.41/networks/n1/connect", {"Container": "web", "EndpointConfig": null}))
	_allowed(_request("DELETE", "/v1.41/networks/n1", null))
}

test_network_driver_denied if {
	_denied_by("network_driver", _network_create({"Driver": "macvlan", "Options": {"parent": "eth0"}}))
	_denied_by("network_driver", _network_create({"driver": "ipvlan"}))
	_denied_by("network_driver", _network_create({"Driver": "host"}))
}

test_network_options_denied if {
	_denied_by("network_options", _network_create({"Options": {"com.docker.network.bridge.name": "docker0"}}))
}
