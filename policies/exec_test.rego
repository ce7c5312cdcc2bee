# Tests of exec.rego.
package docker.authz_test

import data.docker.authz
import rego.v1

_exec_as(body) := _request("POST", "/v1.41/containers/web/exec", body)

test_exec_as_non_root_allowed if {
	_allowed(_exec_as(_cli28_exec_body))
	_allowed(_exec_as(object.union(_cli28_exec_body, {"User": "1000:1000"})))

	# docker exec then starts the exec instance
	_allowed(_request("POST", "/v1.41/exec/e1/start", {"Detach": false, "Tty": false}))
	_allowed(_request("GET", "/v1.41/exec/e1/json", null))
}

test_exec_as_root_denied if {
	every user in ["0", "root", "0:0", "root:1000", "nobody", ":1000"] {
		_denied_by("exec_user", _exec_as(object.union(_cli28_exec_body, {"User": user})))
	}
	_denied_by("exec_user", _exec_as(object.union(_cli28_exec_body, {"user": "0"})))
}

# An empty exec user is the container's user, which the policy cannot see.
test_exec_as_container_user_denied_by_default if {
	_denied_by("exec_user", _exec_as(object.union(_cli28_exec_body, {"User": ""})))
	_denied_by("exec_user", _exec_as(object.remove(_cli28_exec_body, ["User"])))
}

test_exec_as_container_user_allowed_when_configured if {
	config := _with_config({"exec_allow_container_user": true})
	request_input := _exec_as(object.union(_cli28_exec_body, {"User": ""}))
	authz.allow with input as request_input with data.docker.authz_config as config
	not authz.allow
		with input as _exec_as(object.union(_cli28_exec_body, {"User": "0"}))
		with data.docker.authz_config as config
}

test_exec_privileged_denied if {
	_denied_by("exec_privileged", _exec_as(object.union(_cli28_exec_body, {"Privileged": true})))
	_denied_by("exec_privileged", _exec_as(object.union(_cli28_exec_body, {"privileged": true})))
}
