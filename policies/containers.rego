# Container rules: what POST /containers/create (and, where it applies,
# POST /containers/{id}/update) may ask for. Every field is read in every
# spelling the daemon accepts (see fields and host_configs in authz.rego).
package docker.authz

import rego.v1

# ---------------------------------------------------------------------------
# The user. Root inside the container is refused whatever the image says:
# an empty user is the image's default (root for most images).

deny contains msg if {
	container_create
	some user in requested_users
	not non_root_user(user)
	msg := denial("root_user", sprintf(
		"containers must run as a non-root numeric user (--user UID[:GID], UID 1 or more), not %s: an empty user is the image's default, and user names can map to UID 0",
		[show(user)],
	))
}

# ---------------------------------------------------------------------------
# Privileges and capabilities.

deny contains msg if {
	some host_config in host_configs
	value := host_config.Privileged
	not value in {false, null}
	msg := denial("privileged", "privileged containers are not allowed")
}

deny contains msg if {
	some host_config in host_configs
	value := host_config.CapAdd
	not is_unset(value)
	msg := denial("cap_add", sprintf("adding capabilities is not allowed (CapAdd %s)", [show(value)]))
}

# Capabilities (API 1.40 to 1.43) replaces the default set outright.
deny contains msg if {
	some host_config in host_configs
	value := host_config.Capabilities
	not is_unset(value)
	msg := denial("capabilities", sprintf("replacing the capability set is not allowed (Capabilities %s)", [show(value)]))
}

# ---------------------------------------------------------------------------
# Security options. The daemon splits an option at its first "=" or, without
# one, at its first ":"; both readings are checked here, keys case-folded.

security_opts contains opt if {
	some host_config in host_configs
	list := host_config.SecurityOpt
	some opt in string_list(list)
}

security_opt_pairs contains [key, value] if {
	some opt in security_opts
	some separator in ["=", ":"]
	index := indexof(opt, separator)
	index >= 0
	key := lower(trim_space(substring(opt, 0, index)))
	value := substring(opt, index + 1, -1)
}

# A bare "disable" is read as label=disable.
security_opt_pairs contains ["label", "disable"] if {
	some opt in security_opts
	lower(trim_space(opt)) == "disable"
}

deny contains msg if {
	some [key, value] in security_opt_pairs
	key == "seccomp"
	lower(trim_space(value)) != "builtin"
	msg := denial("seccomp", "seccomp must keep Docker's default profile (seccomp=unconfined and custom profiles are not allowed)")
}

deny contains msg if {
	some [key, value] in security_opt_pairs
	key == "apparmor"
	not value in setting("apparmor_profiles", ["docker-default"])
	msg := denial("apparmor", sprintf("AppArmor profile %s is not allowed (unconfined included)", [show(value)]))
}

# Any SELinux label option: disable, a type such as spc_t, or another
# container's level, all weaken the confinement.
deny contains msg if {
	some [key, _] in security_opt_pairs
	key == "label"
	msg := denial("selinux_label", "SELinux label options are not allowed (label=disable included)")
}

deny contains msg if {
	some [key, value] in security_opt_pairs
	key == "no-new-privileges"
	not lower(trim_space(value)) in {"true", "1", "t"}
	msg := denial("no_new_privileges", "turning no-new-privileges off is not allowed")
}

deny contains msg if {
	some [key, value] in security_opt_pairs
	key == "writable-cgroups"
	not lower(trim_space(value)) in {"false", "0", "f"}
	msg := denial("writable_cgroups", "writable cgroups are not allowed")
}

# --security-opt systempaths=unconfined is sent as empty lists; any list
# replaces Docker's defaults, so only null (the default) is accepted.
deny contains msg if {
	some field in ["MaskedPaths", "ReadonlyPaths"]
	some host_config in host_configs
	value := host_config[field]
	value != null
	msg := denial("system_paths", sprintf("changing the masked or read-only /proc and /sys paths is not allowed (%s %s)", [field, show(value)]))
}

# ---------------------------------------------------------------------------
# Namespaces: the host's, or another container's, are not shared.

# The values each mode may take; anything else (host, container:<id>, and
# spellings the daemon refuses anyway) is denied.
private_namespace_modes := {
	"PidMode": {"rule": "pid_mode", "what": "PID namespace", "allowed": {null, ""}},
	"IpcMode": {"rule": "ipc_mode", "what": "IPC namespace", "allowed": {null, "", "private", "shareable", "none"}},
	"UTSMode": {"rule": "uts_mode", "what": "UTS namespace", "allowed": {null, ""}},
	"UsernsMode": {"rule": "userns_mode", "what": "user namespace", "allowed": {null, ""}},
	"CgroupnsMode": {"rule": "cgroupns_mode", "what": "cgroup namespace", "allowed": {null, "", "private"}},
	"Cgroup": {"rule": "cgroup", "what": "cgroup", "allowed": {null, ""}},
}

deny contains msg if {
	some host_config in host_configs
	some field, value in object.filter(host_config, private_namespace_modes)
	mode := private_namespace_modes[field]
	not value in mode.allowed
	msg := denial(mode.rule, sprintf("%s %s is not allowed: a container may not use the host's or another container's %s", [field, show(value), mode.what]))
}

# Network modes name user networks too, so only host and container:<id> are
# refused.
deny contains msg if {
	some host_config in host_configs
	value := host_config.NetworkMode
	host_or_container_mode(value)
	msg := denial("network_mode", sprintf("NetworkMode %s is not allowed: sharing the host's or another container's network namespace", [show(value)]))
}

host_or_container_mode(mode) if lower(trim_space(mode)) == "host"

host_or_container_mode(mode) if startswith(lower(trim_space(mode)), "container:")

# ---------------------------------------------------------------------------
# Devices.

deny contains msg if {
	some host_config in host_configs
	value := host_config.Devices
	not is_unset(value)
	msg := denial("devices", "host devices are not allowed (--device)")
}

deny contains msg if {
	some host_config in host_configs
	value := host_config.DeviceCgroupRules
	not is_unset(value)
	msg := denial("device_cgroup_rules", "device cgroup rules are not allowed (--device-cgroup-rule)")
}

deny contains msg if {
	some host_config in host_configs
	value := host_config.DeviceRequests
	not is_unset(value)
	msg := denial("device_requests", "device requests are not allowed (--gpus)")
}

# ---------------------------------------------------------------------------
# Kernel parameters: only the namespaced sysctls of the allow-list. runc
# accepts "/" for "." in names.

deny contains msg if {
	some host_config in host_configs
	sysctls := host_config.Sysctls
	is_object(sysctls)
	some name, _ in sysctls
	not replace(name, "/", ".") in setting("sysctls", [])
	msg := denial("sysctls", sprintf("sysctl %s is not allowed (only the allow-listed, namespaced sysctls are)", [show(name)]))
}

# ---------------------------------------------------------------------------
# Where and how the container runs.

deny contains msg if {
	some host_config in host_configs
	runtime := host_config.Runtime
	not runtime in {null, ""}
	not runtime in setting("runtimes", [])
	msg := denial("runtime", sprintf("runtime %s is not allowed", [show(runtime)]))
}

deny contains msg if {
	some host_config in host_configs
	parent := host_config.CgroupParent
	not is_unset(parent)
	msg := denial("cgroup_parent", sprintf("choosing the parent cgroup is not allowed (CgroupParent %s)", [show(parent)]))
}

# Log drivers run in the daemon, on the host's network and file system.
deny contains msg if {
	some host_config in host_configs
	log_config := host_config.LogConfig
	some driver in fields(log_config, "Type")
	not driver in {null, ""}
	not driver in setting("log_drivers", [])
	msg := denial("log_driver", sprintf("log driver %s is not allowed", [show(driver)]))
}

# Annotations reach the OCI runtime, which may interpret them.
deny contains msg if {
	some host_config in host_configs
	annotations := host_config.Annotations
	not is_unset(annotations)
	msg := denial("annotations", "OCI annotations are not allowed")
}
