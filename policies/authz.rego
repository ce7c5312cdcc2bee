# First draft policy (replaced by the full policy): the original five rules plus plugin changes.
package docker.authz

import rego.v1

default allow := false

allow if count(deny) == 0

container_create if {
	input.Method == "POST"
	regex.match(`^(/v[0-9.]+)?/containers/create$`, input.PathPlain)
}

deny contains "privileged containers are not allowed (rule privileged)" if {
	container_create
	input.Body.HostConfig.Privileged == true
}

deny contains "containers must run as a non-root user (rule root_user)" if {
	container_create
	user := object.get(input.Body, "User", "")
	root_user(user)
}

root_user(user) if user == ""

root_user(user) if {
	name := split(user, ":")[0]
	name in {"root", "0"}
}

deny contains "plugin changes are not allowed (rule plugins)" if {
	input.Method != "GET"
	regex.match(`^(/v[0-9.]+)?/plugins/`, input.PathPlain)
}
