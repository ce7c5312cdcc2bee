# Exec rules: POST /containers/{id}/exec starts a process in a running
# container with the user and privileges the body asks for.
package docker.authz

import rego.v1

# An empty exec user means the container's own user. This policy cannot see
# which user that is, and containers that run as root do exist on a host:
# made by a trusted identity, made before the policy, or the classic
# builder's RUN containers. So an exec must name a non-root numeric user,
# unless the operator sets exec_allow_container_user (see README.md).
# METADATA
# custom:
#   id: exec_user
deny contains msg if {
	_container_exec
	some user in _requested_users
	not _exec_user_allowed(user)
	msg := _denial(rego.metadata.rule(), sprintf(
		"exec must run as a non-root numeric user (docker exec --user UID[:GID], UID 1 or more), not %s",
		[_show(user)],
	))
}

_exec_user_allowed(user) if _non_root_user(user)

_exec_user_allowed(user) if {
	user in {null, ""}
	_setting("exec_allow_container_user", false) == true
}

# METADATA
# custom:
#   id: exec_privileged
deny contains msg if {
	_container_exec
	some value in _body_values("Privileged")
	not value in {false, null}
	msg := _denial(rego.metadata.rule(), "privileged exec is not allowed")
}
