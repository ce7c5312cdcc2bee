# Container rules: what POST /containers/create (and, where it applies,
# POST /containers/{id}/update) may ask for. Every field is read in every
# spelling the daemon accepts (see _fields and _host_configs in authz.rego).
package docker.authz

import rego.v1

# ---------------------------------------------------------------------------
# The user. Root inside the container is refused whatever the image says:
# an empty user is the image's default (root for most images).

# METADATA
# custom:
#   id: root_user
deny contains msg if {
	_container_create
	some user in _requested_users
	not _non_root_user(user)
	msg := _denial(rego.metadata.rule(), sprintf(
		concat(" ", [
			"containers must run as a non-root numeric user (--user UID[:GID], UID 1 or more), not %s: an empty user is the",
			"image's default, and user names can map to UID 0",
		]),
		[_show(user)],
	))
}

# ---------------------------------------------------------------------------
# Privileges and capabilities.

# METADATA
# custom:
#   id: privileged
deny contains msg if {
	some host_config in _host_configs
	value := host_config.Privileged
	not value in {false, null}
	msg := _denial(rego.metadata.rule(), "privileged containers are not allowed")
}

# METADATA
# custom:
#   id: cap_add
deny contains msg if {
	some host_config in _host_configs
	value := host_config.CapAdd
	not _is_unset(value)
	msg := _denial(rego.metadata.rule(), sprintf("adding capabilities is not allowed (CapAdd %s)", [_show(value)]))
}

# Capabilities (API 1.40 to 1.43) replaces the default set outright.
# METADATA
# custom:
#   id: capabilities
deny contains msg if {
	some host_config in _host_configs
	value := host_config.Capabilities
	not _is_unset(value)
	msg := _denial(rego.metadata.rule(), sprintf(
		"replacing the capability set is not allowed (Capabilities %s)",
		[_show(value)],
	))
}

# ---------------------------------------------------------------------------
# Security options. The daemon splits an option at its first "=" or, without
# one, at its first ":"; both readings are checked here, keys case-folded.

_security_opts contains opt if {
	some host_config in _host_configs
	list := host_config.SecurityOpt
	some opt in _string_list(list)
}

_security_opt_pairs contains [key, value] if {
	some opt in _security_opts
	some separator in ["=", ":"]
	index := indexof(opt, separator)
	index >= 0
	key := lower(trim_space(substring(opt, 0, index)))
	value := substring(opt, index + 1, -1)
}

# A bare "disable" is read as label=disable.
_security_opt_pairs contains ["label", "disable"] if {
	some opt in _security_opts
	lower(trim_space(opt)) == "disable"
}

# METADATA
# custom:
#   id: seccomp
deny contains msg if {
	some [key, value] in _security_opt_pairs
	key == "seccomp"
	lower(trim_space(value)) != "builtin"
	msg := _denial(
		rego.metadata.rule(),
		"seccomp must keep Docker's default profile (seccomp=unconfined and custom profiles are not allowed)",
	)
}

# METADATA
# custom:
#   id: apparmor
deny contains msg if {
	some [key, value] in _security_opt_pairs
	key == "apparmor"
	not value in _setting("apparmor_profiles", ["docker-default"])
	msg := _denial(rego.metadata.rule(), sprintf(
		"AppArmor profile %s is not allowed (unconfined included)",
		[_show(value)],
	))
}

# Any SELinux label option: disable, a type such as spc_t, or another
# container's level, all weaken the confinement.
# METADATA
# custom:
#   id: selinux_label
deny contains msg if {
	some [key, _] in _security_opt_pairs
	key == "label"
	msg := _denial(rego.metadata.rule(), "SELinux label options are not allowed (label=disable included)")
}

# METADATA
# custom:
#   id: no_new_privileges
deny contains msg if {
	some [key, value] in _security_opt_pairs
	key == "no-new-privileges"
	not lower(trim_space(value)) in {"true", "1", "t"}
	msg := _denial(rego.metadata.rule(), "turning no-new-privileges off is not allowed")
}

# METADATA
# custom:
#   id: writable_cgroups
deny contains msg if {
	some [key, value] in _security_opt_pairs
	key == "writable-cgroups"
	not lower(trim_space(value)) in {"false", "0", "f"}
	msg := _denial(rego.metadata.rule(), "writable cgroups are not allowed")
}

# --security-opt systempaths=unconfined is sent as empty lists; any list
# replaces Docker's defaults, so only null (the default) is accepted.
# METADATA
# custom:
#   id: system_paths
deny contains msg if {
	some field in ["MaskedPaths", "ReadonlyPaths"]
	some host_config in _host_configs
	value := host_config[field]
	value != null
	msg := _denial(rego.metadata.rule(), sprintf(
		"changing the masked or read-only /proc and /sys paths is not allowed (%s %s)",
		[field, _show(value)],
	))
}

# ---------------------------------------------------------------------------
# Namespaces: the host's, or another container's, are not shared.

# The values each mode may take; anything else (host, container:<id>, and
# spellings the daemon refuses anyway) is denied. One rule per field, each
# with its own id.
_private_namespace_modes := {
	"PidMode": {"what": "PID namespace", "allowed": {null, ""}},
	"IpcMode": {"what": "IPC namespace", "allowed": {null, "", "private", "shareable", "none"}},
	"UTSMode": {"what": "UTS namespace", "allowed": {null, ""}},
	"UsernsMode": {"what": "user namespace", "allowed": {null, ""}},
	"CgroupnsMode": {"what": "cgroup namespace", "allowed": {null, "", "private"}},
	"Cgroup": {"what": "cgroup", "allowed": {null, ""}},
}

# _namespace_denials(field, rule) refuses a mode of field outside its allowed
# values; rule is the annotations of the rule that asks.
_namespace_denials(field, rule) := {msg |
	some host_config in _host_configs
	value := host_config[field]
	mode := _private_namespace_modes[field]
	not value in mode.allowed
	msg := _denial(rule, sprintf(
		"%s %s is not allowed: a container may not use the host's or another container's %s",
		[field, _show(value), mode.what],
	))
}

# METADATA
# custom:
#   id: pid_mode
deny contains msg if {
	some msg in _namespace_denials("PidMode", rego.metadata.rule())
}

# METADATA
# custom:
#   id: ipc_mode
deny contains msg if {
	some msg in _namespace_denials("IpcMode", rego.metadata.rule())
}

# METADATA
# custom:
#   id: uts_mode
deny contains msg if {
	some msg in _namespace_denials("UTSMode", rego.metadata.rule())
}

# METADATA
# custom:
#   id: userns_mode
deny contains msg if {
	some msg in _namespace_denials("UsernsMode", rego.metadata.rule())
}

# METADATA
# custom:
#   id: cgroupns_mode
deny contains msg if {
	some msg in _namespace_denials("CgroupnsMode", rego.metadata.rule())
}

# METADATA
# custom:
#   id: cgroup
deny contains msg if {
	some msg in _namespace_denials("Cgroup", rego.metadata.rule())
}

# Network modes name user networks too, so only host and container:<id> are
# refused.
# METADATA
# custom:
#   id: network_mode
deny contains msg if {
	some host_config in _host_configs
	value := host_config.NetworkMode
	_host_or_container_mode(value)
	msg := _denial(rego.metadata.rule(), sprintf(
		"NetworkMode %s is not allowed: sharing the host's or another container's network namespace",
		[_show(value)],
	))
}

_host_or_container_mode(mode) if lower(trim_space(mode)) == "host"

_host_or_container_mode(mode) if startswith(lower(trim_space(mode)), "container:")

# ---------------------------------------------------------------------------
# Devices.

# METADATA
# custom:
#   id: devices
deny contains msg if {
	some host_config in _host_configs
	value := host_config.Devices
	not _is_unset(value)
	msg := _denial(rego.metadata.rule(), "host devices are not allowed (--device)")
}

# METADATA
# custom:
#   id: device_cgroup_rules
deny contains msg if {
	some host_config in _host_configs
	value := host_config.DeviceCgroupRules
	not _is_unset(value)
	msg := _denial(rego.metadata.rule(), "device cgroup rules are not allowed (--device-cgroup-rule)")
}

# METADATA
# custom:
#   id: device_requests
deny contains msg if {
	some host_config in _host_configs
	value := host_config.DeviceRequests
	not _is_unset(value)
	msg := _denial(rego.metadata.rule(), "device requests are not allowed (--gpus)")
}

# ---------------------------------------------------------------------------
# Kernel parameters: only the namespaced sysctls of the allow-list. runc
# accepts "/" for "." in names.

# METADATA
# custom:
#   id: sysctls
deny contains msg if {
	some host_config in _host_configs
	sysctls := host_config.Sysctls
	is_object(sysctls)
	some name, _ in sysctls
	not replace(name, "/", ".") in _setting("sysctls", [])
	msg := _denial(rego.metadata.rule(), sprintf(
		"sysctl %s is not allowed (only the allow-listed, namespaced sysctls are)",
		[_show(name)],
	))
}

# ---------------------------------------------------------------------------
# Where and how the container runs.

# METADATA
# custom:
#   id: runtime
deny contains msg if {
	some host_config in _host_configs
	runtime := host_config.Runtime
	not runtime in {null, ""}
	not runtime in _setting("runtimes", [])
	msg := _denial(rego.metadata.rule(), sprintf("runtime %s is not allowed", [_show(runtime)]))
}

# METADATA
# custom:
#   id: cgroup_parent
deny contains msg if {
	some host_config in _host_configs
	parent := host_config.CgroupParent
	not _is_unset(parent)
	msg := _denial(rego.metadata.rule(), sprintf(
		"choosing the parent cgroup is not allowed (CgroupParent %s)",
		[_show(parent)],
	))
}

# Log drivers run in the daemon, on the host's network and file system.
# METADATA
# custom:
#   id: log_driver
deny contains msg if {
	some host_config in _host_configs
	log_config := host_config.LogConfig
	some driver in _fields(log_config, "Type")
	not driver in {null, ""}
	not driver in _setting("log_drivers", [])
	msg := _denial(rego.metadata.rule(), sprintf("log driver %s is not allowed", [_show(driver)]))
}

# Annotations reach the OCI runtime, which may interpret them.
# METADATA
# custom:
#   id: annotations
deny contains msg if {
	some host_config in _host_configs
	annotations := host_config.Annotations
	not _is_unset(annotations)
	msg := _denial(rego.metadata.rule(), "OCI annotations are not allowed")
}
