# Tests of exec.rego.
package docker.authz_test

import data.docker.authz
import rego.v1

exec_as(body) := request("POST", "/v1.41/containers/web/exec", body)

test_exec_as_non_root_allowed if {
	allowed(exec_as(cli28_exec_body))
	allowed(exec_as(object.union(cli28_exec_body, {"User": "1000:1000"})))

	# docker exec then starts the exec instance
	allowed(request("POST", "/v1.41/exec/e1/start", {"Detach": false, "Tty": false}))
	allowed(request("GET", "/v1.41/exec/e1/json", null))
}

test_exec_as_root_denied if {
	every user in ["0", "root", "0:0", "root:1000", "nobody", ":1000"] {
		denied_by("exec_user", exec_as(object.union(cli28_exec_body, {"User": user})))
	}
	denied_by("exec_user", exec_as(object.union(cli28_exec_body, {"user": "0"})))
}

# An empty exec user is the container's user, which the policy cannot see.
test_exec_as_container_user_denied_by_default if {
	denied_by("exec_user", exec_as(object.union(cli28_exec_body, {"User": ""})))
	denied_by("exec_user", exec_as(object.remove(cli28_exec_body, ["User"])))
}

test_exec_as_container_user_allowed_when_configured if {
	config := with_config({"exec_allow_container_user": true})
	request_input := exec_as(object.union(cli28_exec_body, {"User": ""}))
	authz.allow with input as request_input with data.docker.authz_config as config
	not authz.allow with input as exec_as(object.union(cli28_exec_body, {"User": "0"})) with data.docker.authz_config as config
}

test_exec_privileged_denied if {
	denied_by("exec_privileged", exec_as(object.union(cli28_exec_body, {"Privileged": true})))
	denied_by("exec_privileged", exec_as(object.union(cli28_exec_body, {"privileged": true})))
}
