# Tests of containers.rego: one or more refused spellings per rule, and the
# everyday values that must stay allowed.
package docker.authz_test

import rego.v1

# ---------------------------------------------------------------------------
# root_user

create_as(user) := create(object.union(cli28_create_body, {"User": user}))

test_root_user_denied if {
	every user in ["", "root", "0", "00", "0:0", "root:1000", "0:1000", ":1000", "toor", "nobody", "18446744073709551616", " 1000", null, 0] {
		denied_by("root_user", create_as(user))
	}
}

test_root_user_denied_when_user_is_missing if {
	denied_by("root_user", create(object.remove(cli28_create_body, ["User"])))
}

test_root_user_denied_in_any_key_spelling if {
	denied_by("root_user", create(object.union(cli28_create_body, {"user": "0"})))
	denied_by("root_user", create(object.union(cli28_create_body, {"USER": "root"})))
}

test_non_root_users_allowed if {
	every user in ["1000", "1000:1000", "65534:65534", "1000:0", "4242:users"] {
		allowed(create_as(user))
	}
}

# ---------------------------------------------------------------------------
# privileged, cap_add, capabilities

test_privileged_denied if {
	denied_by("privileged", create_with({"Privileged": true}))
	denied_by("privileged", create_with({"privileged": true}))
	denied_by("privileged", create_with({"Privileged": "true"}))
}

test_privileged_in_other_spellings_of_host_config_denied if {
	denied_by("privileged", create(object.union(cli28_create_body, {"hostconfig": {"Privileged": true}})))
	denied_by("privileged", create({"Image": "alpine", "User": "1000", "HOSTCONFIG": {"PRIVILEGED": true}}))
}

# Daemons before 25.0 read HostConfig fields at the top level of the body
# when HostConfig is absent.
test_privileged_at_top_level_denied if {
	denied_by("privileged", create({"Image": "alpine", "User": "1000", "Privileged": true}))
	denied_by("privileged", create({"Image": "alpine", "User": "1000", "HostConfig": null, "Privileged": true}))
}

test_cap_add_denied if {
	denied_by("cap_add", create_with({"CapAdd": ["SYS_ADMIN"]}))
	denied_by("cap_add", create_with({"CapAdd": ["CAP_NET_RAW"]}))
	denied_by("cap_add", create_with({"CapAdd": "ALL"}))
	denied_by("cap_add", create_with({"capadd": ["ALL"]}))
}

test_cap_drop_allowed if {
	allowed(create_with({"CapDrop": ["ALL"], "CapAdd": []}))
}

test_capabilities_denied if {
	denied_by("capabilities", create_with({"Capabilities": ["CAP_SYS_ADMIN"]}))
}

# ---------------------------------------------------------------------------
# Security options

with_security_opt(opts) := create_with({"SecurityOpt": opts})

test_seccomp_denied if {
	denied_by("seccomp", with_security_opt(["seccomp=unconfined"]))
	denied_by("seccomp", with_security_opt(["seccomp:unconfined"]))
	denied_by("seccomp", with_security_opt(["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]))
	denied_by("seccomp", with_security_opt(["seccomp:{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"x\":\"a=b\"}"]))
	denied_by("seccomp", with_security_opt("seccomp=unconfined"))
	denied_by("seccomp", create_with({"securityopt": ["SECCOMP=unconfined"]}))
}

test_apparmor_denied if {
	denied_by("apparmor", with_security_opt(["apparmor=unconfined"]))
	denied_by("apparmor", with_security_opt(["apparmor:unconfined"]))
	denied_by("apparmor", with_security_opt(["apparmor=some-loaded-profile"]))
}

test_selinux_label_denied if {
	denied_by("selinux_label", with_security_opt(["label=disable"]))
	denied_by("selinux_label", with_security_opt(["label:disable"]))
	denied_by("selinux_label", with_security_opt(["disable"]))
	denied_by("selinux_label", with_security_opt(["label=type:spc_t"]))
	denied_by("selinux_label", with_security_opt(["label:level:s0:c100,c200"]))
}

test_no_new_privileges_off_denied if {
	every opt in ["no-new-privileges=false", "no-new-privileges:false", "no-new-privileges=0", "no-new-privileges=FALSE", "no-new-privileges=f", "no-new-privileges="] {
		denied_by("no_new_privileges", with_security_opt([opt]))
	}
}

test_writable_cgroups_denied if {
	denied_by("writable_cgroups", with_security_opt(["writable-cgroups=true"]))
	denied_by("writable_cgroups", with_security_opt(["writable-cgroups:1"]))
}

test_safe_security_options_allowed if {
	allowed(with_security_opt(["no-new-privileges"]))
	allowed(with_security_opt(["no-new-privileges=true", "no-new-privileges:1"]))
	allowed(with_security_opt(["apparmor=docker-default", "seccomp=builtin"]))
	allowed(with_security_opt(["writable-cgroups=false"]))
	allowed(with_security_opt([]))
}

test_system_paths_denied if {
	# --security-opt systempaths=unconfined
	denied_by("system_paths", create_with({"MaskedPaths": [], "ReadonlyPaths": []}))
	denied_by("system_paths", create_with({"ReadonlyPaths": ["/proc/bus"]}))
}

# ---------------------------------------------------------------------------
# Namespaces

test_namespace_modes_denied if {
	denied_by("pid_mode", create_with({"PidMode": "host"}))
	denied_by("pid_mode", create_with({"PidMode": "container:web"}))
	denied_by("ipc_mode", create_with({"IpcMode": "host"}))
	denied_by("ipc_mode", create_with({"IpcMode": "container:web"}))
	denied_by("uts_mode", create_with({"UTSMode": "host"}))
	denied_by("userns_mode", create_with({"UsernsMode": "host"}))
	denied_by("cgroupns_mode", create_with({"CgroupnsMode": "host"}))
	denied_by("cgroup", create_with({"Cgroup": "container:web"}))
	denied_by("pid_mode", create_with({"pidmode": "host"}))
}

test_private_namespace_modes_allowed if {
	allowed(create_with({"IpcMode": "shareable", "CgroupnsMode": "private"}))
	allowed(create_with({"IpcMode": "private"}))
	allowed(create_with({"IpcMode": "none", "PidMode": null}))
}

test_network_mode_denied if {
	every mode in ["host", "HOST", " host", "container:web", "Container:web"] {
		denied_by("network_mode", create_with({"NetworkMode": mode}))
	}
}

test_network_modes_allowed if {
	every mode in ["default", "bridge", "none", "mynet", "hostnet", ""] {
		allowed(create_with({"NetworkMode": mode}))
	}
}

# ---------------------------------------------------------------------------
# Devices

test_devices_denied if {
	denied_by("devices", create_with({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]}))
	denied_by("device_cgroup_rules", create_with({"DeviceCgroupRules": ["c 1:3 rwm"]}))
	denied_by("device_requests", create_with({"DeviceRequests": [{"Driver": "", "Count": -1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": {}}]}))
}

test_devices_in_update_denied if {
	body := object.union(cli28_update_body, {"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]})
	denied_by("devices", request("POST", "/v1.41/containers/web/update", body))
}

# ---------------------------------------------------------------------------
# Sysctls

test_sysctls_denied if {
	denied_by("sysctls", create_with({"Sysctls": {"kernel.core_pattern": "|/tmp/x"}}))
	denied_by("sysctls", create_with({"Sysctls": {"net.ipv4.ip_forward": "1"}}))
	denied_by("sysctls", create_with({"Sysctls": {"kernel/shm_rmid_forced/../../x": "1"}}))
}

test_allow_listed_sysctls_allowed if {
	allowed(create_with({"Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"}}))
	allowed(create_with({"Sysctls": {"net/ipv4/ping_group_range": "0 2147483647"}}))
	allowed(create_with({"Sysctls": {}}))
}

# ---------------------------------------------------------------------------
# Runtime, cgroup parent, log driver, annotations

test_runtime_denied if {
	denied_by("runtime", create_with({"Runtime": "io.containerd.runsc.v1"}))
	denied_by("runtime", create_with({"Runtime": "nvidia"}))
}

test_runtime_allowed if {
	allowed(create_with({"Runtime": "runc"}))
	allowed(create_with({"Runtime": ""}))
}

test_cgroup_parent_denied if {
	denied_by("cgroup_parent", create_with({"CgroupParent": "/"}))
	denied_by("cgroup_parent", request("POST", "/v1.41/containers/web/update", object.union(cli28_update_body, {"CgroupParent": "system.slice"})))
}

test_log_driver_denied if {
	denied_by("log_driver", create_with({"LogConfig": {"Type": "syslog", "Config": {"syslog-address": "tcp://127.0.0.1:25"}}}))
	denied_by("log_driver", create_with({"LogConfig": {"type": "gelf"}}))
}

test_log_driver_allowed if {
	allowed(create_with({"LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}}}))
	allowed(create_with({"LogConfig": {"Type": "local", "Config": {}}}))
}

test_annotations_denied if {
	denied_by("annotations", create_with({"Annotations": {"io.kubernetes.cri.container-type": "sandbox"}}))
}
