# Exec rules: POST /containers/{id}/exec starts a process in a running
# container with the user and privileges the body asks for.
package docker.authz

import rego.v1

# An empty exec user means the container's own user. This policy cannot see
# which user that is, and containers that run as root do exist on a host:
# made by a trusted identity, made before the policy, or the classic
# builder's RUN containers. So an exec must name a non-root numeric user,
# unless the operator sets exec_allow_container_user (see README.md).
deny contains msg if {
	container_exec
	some user in requested_users
	not exec_user_allowed(user)
	msg := denial("exec_user", sprintf(
		"exec must run as a non-root numeric user (docker exec --user UID[:GID], UID 1 or more), not %s",
		[show(user)],
	))
}

exec_user_allowed(user) if non_root_user(user)

exec_user_allowed(user) if {
	user in {null, ""}
	setting("exec_allow_container_user", false) == true
}

deny contains msg if {
	container_exec
	some value in body_values("Privileged")
	not value in {false, null}
	msg := denial("exec_privileged", "privileged exec is not allowed")
}
