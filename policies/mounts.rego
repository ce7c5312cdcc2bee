# Mount rules: host paths reach a container through HostConfig.Binds,
# HostConfig.Mounts, VolumesFrom, and volumes whose driver options mount a
# host path or device (in Mounts, or made beforehand with POST
# /volumes/create). Only the allow-listed host paths may be bound, read-only
# unless the allow-list says otherwise.
package docker.authz

import rego.v1

# ---------------------------------------------------------------------------
# Host paths bound into a container.

_host_mounts contains mount if {
	some host_config in _host_configs
	list := host_config.Mounts
	is_array(list)
	some mount in list
	is_object(mount)
}

# A Binds entry is SOURCE:TARGET[:OPTIONS]; an absolute SOURCE is a host path,
# anything else names a volume. ro among the options makes it read-only.
_host_binds contains {"source": parts[0], "read_only": read_only} if {
	some host_config in _host_configs
	list := host_config.Binds
	some spec in _string_list(list)
	parts := split(spec, ":")
	count(parts) >= 2
	startswith(parts[0], "/")
	read_only := _bind_options_read_only(parts)
}

# A Mounts entry with an absolute source binds a host path whatever its type
# says (the daemon refuses such a source for other types anyway).
_host_binds contains {"source": source, "read_only": read_only} if {
	some mount in _host_mounts
	some source in _fields(mount, "Source")
	is_string(source)
	startswith(source, "/")
	read_only := _mount_read_only(mount)
}

default _bind_options_read_only(_) := false

_bind_options_read_only(parts) if "ro" in split(parts[2], ",")

default _mount_read_only(_) := false

# Read-only only if every spelling of ReadOnly says true, and the mount is
# not made read-only non-recursively (which leaves submounts writable).
_mount_read_only(mount) if {
	values := _fields(mount, "ReadOnly")
	count(values) > 0
	every value in values {
		value == true
	}
	not _non_recursive_read_only(mount)
}

_non_recursive_read_only(mount) if {
	some options in _fields(mount, "BindOptions")
	some value in _fields(options, "ReadOnlyNonRecursive")
	value != false
}

# The allow-list, cleaned; an entry is read-only unless it says
# "read_only": false.
_bind_allow_list contains {"root": root, "read_only": read_only} if {
	some entry in _setting("bind_mounts", [])
	root := _clean_path(entry.path)
	read_only := object.get(entry, "read_only", true) != false
}

_path_allowed(path, false) if {
	some entry in _bind_allow_list
	_path_within(path, entry.root)
}

_path_allowed(path, true) if {
	some entry in _bind_allow_list
	entry.read_only == false
	_path_within(path, entry.root)
}

default _bind_mount_inputs := []

_bind_mount_inputs := input.BindMounts if is_array(input.BindMounts)

# _bind_covered: the bind's source, cleaned as the daemon cleans it, and every
# resolution the plugin reports for it (input.BindMounts[_].Resolved,
# symbolic links followed when the plugin can see the host) lie in the
# allow-list (in a writable entry when writable).
_bind_covered(bind, writable) if {
	_path_allowed(_clean_path(bind.source), writable)
	every reported in _bind_mount_inputs {
		_resolution_allowed(reported, bind.source, writable)
	}
}

_resolution_allowed(reported, source, _) if reported.Source != source

_resolution_allowed(reported, source, writable) if {
	reported.Source == source
	_path_allowed(object.get(reported, "Resolved", ""), writable)
}

# METADATA
# custom:
#   id: bind_mount
deny contains msg if {
	some bind in _host_binds
	not _bind_covered(bind, false)
	msg := _denial(rego.metadata.rule(), sprintf(
		"bind mount of host path %s is not allowed (only allow-listed host paths can be mounted)",
		[_show(bind.source)],
	))
}

# METADATA
# custom:
#   id: bind_read_only
deny contains msg if {
	some bind in _host_binds
	not bind.read_only
	_bind_covered(bind, false)
	not _bind_covered(bind, true)
	msg := _denial(rego.metadata.rule(), sprintf(
		"host path %s may only be mounted read-only (add :ro, or readonly to --mount)",
		[_show(bind.source)],
	))
}

# ---------------------------------------------------------------------------
# Other mount sources.

# METADATA
# custom:
#   id: volumes_from
deny contains msg if {
	some host_config in _host_configs
	value := host_config.VolumesFrom
	not _is_unset(value)
	msg := _denial(
		rego.metadata.rule(),
		"mounting another container's volumes is not allowed (--volumes-from can also make its read-only binds writable)",
	)
}

# METADATA
# custom:
#   id: mount_type
deny contains msg if {
	some mount in _host_mounts
	some type in _fields(mount, "Type")
	not _mount_type_allowed(type)
	msg := _denial(rego.metadata.rule(), sprintf("mount type %s is not allowed", [_show(type)]))
}

# (A helper, so that a type that is not a string is refused: in
# `not lower(type) in ...` a failing lower would make the rule not fire.)
_mount_type_allowed(type) if lower(type) in _setting("mount_types", ["bind", "volume", "tmpfs"])

# Driver options of volumes: in Mounts (volume-opt) and in POST
# /volumes/create (docker volume create --opt).
_volume_driver_options contains options if {
	some mount in _host_mounts
	some volume_options in _fields(mount, "VolumeOptions")
	some driver_config in _fields(volume_options, "DriverConfig")
	some options in _fields(driver_config, "Options")
	is_object(options)
}

_volume_driver_options contains options if {
	_volume_create
	some options in _body_values("DriverOpts")
	is_object(options)
}

# The local driver mounts "device" on the volume with mount(2): with a bind
# flag in "o" (type is then ignored) it is a host path, with a block-device
# file system type a host disk, with overlay's lowerdir the host's tree. So
# options must name an allowed type (tmpfs by default) and no bind flag.
_safe_volume_options(options) if {
	types := [value | some key, value in options; lower(key) == "type"]
	count(types) > 0
	every type in types {
		type in _setting("volume_types", [])
	}
	not _volume_bind_flag(options)
}

_volume_bind_flag(options) if {
	some key, value in options
	lower(key) == "o"
	some flag in split(value, ",")
	lower(trim_space(flag)) in {"bind", "rbind"}
}

# METADATA
# custom:
#   id: volume_options
deny contains msg if {
	some options in _volume_driver_options
	count(options) > 0
	not _safe_volume_options(options)
	msg := _denial(rego.metadata.rule(), sprintf(
		"volume driver options %s are not allowed: they may mount a host path or device (only types %s, without bind)",
		[_show(options), _show(_setting("volume_types", []))],
	))
}

# ---------------------------------------------------------------------------
# Paths, cleaned the way the daemon cleans a bind source (Go's path.Clean):
# "//" and "." dropped, ".." taking away the name before it, never climbing
# above "/". Paths of more than 64 names are not cleaned (and so never
# allowed).

# A plain path (no "//", "." or "..") is clean but for a trailing slash.
_clean_path(path) := trim_suffix(path, "/") if {
	_plain_path(path)
	path != "/"
} else := "/" if {
	path == "/"
} else := concat("", ["/", concat("/", _surviving_names(names))]) if {
	startswith(path, "/")
	not _plain_path(path)
	names := [name | some name in split(path, "/"); not name in {"", "."}]
	count(names) <= 64
}

# (A "." or ".." name is followed by "/" or ends the path.)
_plain_path(path) if {
	startswith(path, "/")
	not regex.match(`//|/\.\.?(/|$)`, path)
}

_surviving_names(names) := [] if count(names) == 0

# With a stack of names: depth[i] is the stack's height after names[i]
# (".." pops, never below the root). A name survives if the stack never
# drops below its height afterwards; ".." never survives.
_surviving_names(names) := kept if {
	count(names) > 0
	last := count(names) - 1
	raw := [sum([_name_step(names[k]) | some k in numbers.range(0, i)]) | some i in numbers.range(0, last)]
	depth := [height |
		some i in numbers.range(0, last)
		height := raw[i] - min([0, min(array.slice(raw, 0, i + 1))])
	]
	kept := [names[i] |
		some i in numbers.range(0, last)
		names[i] != ".."
		every j in numbers.range(i, last) {
			depth[j] >= depth[i]
		}
	]
}

_name_step("..") := -1

_name_step(name) := 1 if name != ".."

_path_within(path, root) if path == root

_path_within(path, "/") if startswith(path, "/")

_path_within(path, root) if startswith(path, concat("", [root, "/"]))
