# Tests of containers.rego: one or more refused spellings per rule, and the
# everyday values that must stay allowed.
package docker.authz_test

import rego.v1

# ---------------------------------------------------------------------------
# root_user

_create_as(user) := _create(object.union(_cli28_create_body, {"User": user}))

test_root_user_denied if {
	every user in [
		"", "root", "0", "00", "0:0", "root:1000", "0:1000", ":1000", "toor", "nobody", "18446744073709551616", " 1000", null,
		0,
	] {
		_denied_by("root_user", _create_as(user))
	}
}

test_root_user_denied_when_user_is_missing if {
	_denied_by("root_user", _create(object.remove(_cli28_create_body, ["User"])))
}

test_root_user_denied_in_any_key_spelling if {
	_denied_by("root_user", _create(object.union(_cli28_create_body, {"user": "0"})))
	_denied_by("root_user", _create(object.union(_cli28_create_body, {"USER": "root"})))
}

test_non_root_users_allowed if {
	every user in ["1000", "1000:1000", "65534:65534", "1000:0", "4242:users"] {
		_allowed(_create_as(user))
	}
}

# ---------------------------------------------------------------------------
# privileged, cap_add, capabilities

test_privileged_denied if {
	_denied_by("privileged", _create_with({"Privileged": true}))
	_denied_by("privileged", _create_with({"privileged": true}))
	_denied_by("privileged", _create_with({"Privileged": "true"}))
}

test_privileged_in_other_spellings_of_host_config_denied if {
	_denied_by("privileged", _create(object.union(_cli28_create_body, {"hostconfig": {"Privileged": true}})))
	_denied_by("privileged", _create({"Image": "alpine", "User": "1000", "HOSTCONFIG": {"PRIVILEGED": true}}))
}

# Daemons before 25.0 read HostConfig fields at the top level of the body
# when HostConfig is absent.
test_privileged_at_top_level_denied if {
	_denied_by("privileged", _create({"Image": "alpine", "User": "1000", "Privileged": true}))
	_denied_by("privileged", _create({"Image": "alpine", "User": "1000", "HostConfig": null, "Privileged": true}))
}

test_cap_add_denied if {
	_denied_by("cap_add", _create_with({"CapAdd": ["SYS_ADMIN"]}))
	_denied_by("cap_add", _create_with({"CapAdd": ["CAP_NET_RAW"]}))
	_denied_by("cap_add", _create_with({"CapAdd": "ALL"}))
	_denied_by("cap_add", _create_with({"capadd": ["ALL"]}))
}

test_cap_drop_allowed if {
	_allowed(_create_with({"CapDrop": ["ALL"], "CapAdd": []}))
}

test_capabilities_denied if {
	_denied_by("capabilities", _create_with({"Capabilities": ["CAP_SYS_ADMIN"]}))
}

# ---------------------------------------------------------------------------
# Security options

_with_security_opt(opts) := _create_with({"SecurityOpt": opts})

test_seccomp_denied if {
	_denied_by("seccomp", _with_security_opt(["seccomp=unconfined"]))
	_denied_by("seccomp", _with_security_opt(["seccomp:unconfined"]))
	_denied_by("seccomp", _with_security_opt(["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]))
	_denied_by("seccomp", _with_security_opt(["seccomp:{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x\":\"a=b\"}"]))
	_denied_by("seccomp", _with_security_opt("seccomp=unconfined"))
	_denied_by("seccomp", _create_with({"securityopt": ["SECCOMP=unconfined"]}))
}

test_apparmor_denied if {
	_denied_by("apparmor", _with_security_opt(["apparmor=unconfined"]))
	_denied_by("apparmor", _with_security_opt(["apparmor:unconfined"]))
	_denied_by("apparmor", _with_security_opt(["apparmor=some-loaded-profile"]))
}

test_selinux_label_denied if {
	_denied_by("selinux_label", _with_security_opt(["label=disable"]))
	_denied_by("selinux_label", _with_security_opt(["label:disable"]))
	_denied_by("selinux_label", _with_security_opt(["disable"]))
	_denied_by("selinux_label", _with_security_opt(["label=type:spc_t"]))
	_denied_by("selinux_label", _with_security_opt(["label:level:s0:c100,c200"]))
}

test_no_new_privileges_off_denied if {
	every opt in [
		"no-new-privileges=false", "no-new-privileges:false", "no-new-privileges=0", "no-new-privileges=FALSE",
		"no-new-privileges=f", "no-new-privileges=",
	] {
		_denied_by("no_new_privileges", _with_security_opt([opt]))
	}
}

test_writable_cgroups_denied if {
	_denied_by("writable_cgroups", _with_security_opt(["writable-cgroups=true"]))
	_denied_by("writable_cgroups", _with_security_opt(["writable-cgroups:1"]))
}

test_safe_security_options_allowed if {
	_allowed(_with_security_opt(["no-new-privileges"]))
	_allowed(_with_security_opt(["no-new-privileges=true", "no-new-privileges:1"]))
	_allowed(_with_security_opt(["apparmor=docker-default", "seccomp=builtin"]))
	_allowed(_with_security_opt(["writable-cgroups=false"]))
	_allowed(_with_security_opt([]))
}

test_system_paths_denied if {
	# --security-opt systempaths=unconfined
	_denied_by("system_paths", _create_with({"MaskedPaths": [], "ReadonlyPaths": []}))
	_denied_by("system_paths", _create_with({"ReadonlyPaths": ["/proc/bus"]}))
}

# ---------------------------------------------------------------------------
# Namespaces

test_namespace_modes_denied if {
	_denied_by("pid_mode", _create_with({"PidMode": "host"}))
	_denied_by("pid_mode", _create_with({"PidMode": "container:web"}))
	_denied_by("ipc_mode", _create_with({"IpcMode": "host"}))
	_denied_by("ipc_mode", _create_with({"IpcMode": "container:web"}))
	_denied_by("uts_mode", _create_with({"UTSMode": "host"}))
	_denied_by("userns_mode", _create_with({"UsernsMode": "host"}))
	_denied_by("cgroupns_mode", _create_with({"CgroupnsMode": "host"}))
	_denied_by("cgroup", _create_with({"Cgroup": "container:web"}))
	_denied_by("pid_mode", _create_with({"pidmode": "host"}))
}

test_private_namespace_modes_allowed if {
	_allowed(_create_with({"IpcMode": "shareable", "CgroupnsMode": "private"}))
	_allowed(_create_with({"IpcMode": "private"}))
	_allowed(_create_with({"IpcMode": "none", "PidMode": null}))
}

test_network_mode_denied if {
	every mode in ["host", "HOST", " host", "container:web", "Container:web"] {
		_denied_by("network_mode", _create_with({"NetworkMode": mode}))
	}
}

test_network_modes_allowed if {
	every mode in ["default", "bridge", "none", "mynet", "hostnet", ""] {
		_allowed(_create_with({"NetworkMode": mode}))
	}
}

# ---------------------------------------------------------------------------
# Devices

test_devices_denied if {
	_denied_by(
		"devices",
		_create_with({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]}),
	)
	_denied_by("device_cgroup_rules", _create_with({"DeviceCgroupRules": ["c 1:3 rwm"]}))
	_denied_by(
		"device_requests",
		_create_with({"DeviceRequests": [{
			"Driver": "", "Count": -1, "DeviceIDs": null,
			"Capabilities": [["gpu"]], "Options": {},
		}]}),
	)
}

test_devices_in_update_denied if {
	body := object.union(
		_cli28_update_body,
		{"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]},
	)
	_denied_by("devices", _request("POST", "/v1.41/containers/web/update", body))
}

# ---------------------------------------------------------------------------
# Sysctls

test_sysctls_denied if {
	_denied_by("sysctls", _create_with({"Sysctls": {"kernel.core_pattern": "|/tmp/x"}}))
	_denied_by("sysctls", _create_with({"Sysctls": {"net.ipv4.ip_forward": "1"}}))
	_denied_by("sysctls", _create_with({"Sysctls": {"kernel/shm_rmid_forced/../../x": "1"}}))
}

test_allow_listed_sysctls_allowed if {
	_allowed(_create_with({"Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"}}))
	_allowed(_create_with({"Sysctls": {"net/ipv4/ping_group_range": "0 2147483647"}}))
	_allowed(_create_with({"Sysctls": {}}))
}

# ---------------------------------------------------------------------------
# Runtime, cgroup parent, log driver, annotations

test_runtime_denied if {
	_denied_by("runtime", _create_with({"Runtime": "io.containerd.runsc.v1"}))
	_denied_by("runtime", _create_with({"Runtime": "nvidia"}))
}

test_runtime_allowed if {
	_allowed(_create_with({"Runtime": "runc"}))
	_allowed(_create_with({"Runtime": ""}))
}

test_cgroup_parent_denied if {
	_denied_by("cgroup_parent", _create_with({"CgroupParent": "/"}))
	_denied_by(
		"cgroup_parent",
		_request("POST", "/v1.41/containers/web/update", object.union(_cli28_update_body, {"CgroupParent": "system.slice"})),
	)
}

test_log_driver_denied if {
	_denied_by(
		"log_driver",
		_create_with({"LogConfig": {"Type": "syslog", "Config": {"syslog-address": "tcp://127.0.0.1:25"}}}),
	)
	_denied_by("log_driver", _create_with({"LogConfig": {"type": "gelf"}}))
}

test_log_driver_allowed if {
	_allowed(_create_with({"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}}}))
	_allowed(_create_with({"LogConfig": {"Type": "local", "Config": {}}}))
}

test_annotations_denied if {
	_denied_by("annotations", _create_with({"Annotations": {"io.kubernetes.cri.container-type": "sandbox"}}))
}
