# Tests of mounts.rego: host paths through every mount source, path tricks,
# the allow-list, and volume driver options.
package docker.authz_test

import data.docker.authz
import rego.v1

_with_binds(binds) := _create_with({"Binds": binds})

_with_mounts(mounts) := _create_with({"Mounts": mounts})

# ---------------------------------------------------------------------------
# bind_mount, bind_read_only

test_host_binds_denied if {
	every bind in [
		"/etc:/x", "/:/host", "/etc:/x:ro", "/var/run/docker.sock:/var/run/docker.sock",
		"/etc/localtimes:/x:ro", "/etc:/x:ro,Z", "/home/alice:/home/alice:rw",
	] {
		_denied_by("bind_mount", _with_binds([bind]))
	}
}

test_bind_path_tricks_denied if {
	every bind in [
		"/usr/share/zoneinfo/../../../etc:/x:ro",
		"/etc/localtime/../shadow:/x:ro",
		"/usr/share/zoneinfo/../../..:/x:ro",
		"/usr/share/./zoneinfo/Etc/../../../../etc/shadow:/x:ro",
	] {
		_denied_by("bind_mount", _with_binds([bind]))
	}
}

test_allowed_binds_in_other_spellings if {
	every bind in [
		"/etc/localtime:/etc/localtime:ro",
		"//etc//localtime/:/etc/localtime:ro",
		"/etc/./localtime:/etc/localtime:ro",
		"/usr/share/zoneinfo/Europe/Paris:/etc/localtime:ro",
		"/etc/../usr/share/zoneinfo:/usr/share/zoneinfo:ro,rslave",
		"/../usr/share/zoneinfo:/zoneinfo:ro",
	] {
		_allowed(_with_binds([bind]))
	}
}

test_allowed_bind_written_denied if {
	_denied_by("bind_read_only", _with_binds(["/etc/localtime:/etc/localtime"]))
	_denied_by("bind_read_only", _with_binds(["/etc/localtime:/etc/localtime:rw"]))
	_denied_by("bind_read_only", _with_binds(["/usr/share/zoneinfo:/z:RO"]))
}

test_binds_in_other_spellings_denied if {
	_denied_by("bind_mount", _create_with({"binds": ["/etc:/x"]}))
	_denied_by("bind_mount", _create_with({"Binds": "/etc:/x"}))
	_denied_by("bind_mount", _create({"Image": "alpine", "User": "1000", "Binds": ["/etc:/x"]}))
}

test_volumes_and_anonymous_volumes_allowed if {
	_allowed(_with_binds(["appdata:/data", "cache:/cache:ro", "/scratch"]))
	_allowed(_with_mounts([{"Type": "volume", "Source": "appdata", "Target": "/data"}]))
	_allowed(_with_mounts([{"Type": "volume", "Target": "/anon"}]))
	_allowed(_with_mounts([{"Type": "tmpfs", "Target": "/tmp", "TmpfsOptions": {"SizeBytes": 1048576}}]))
	_allowed(_create_with({"Tmpfs": {"/run": "rw,noexec"}}))
}

test_mounts_of_host_paths_denied if {
	_denied_by("bind_mount", _with_mounts([{"Type": "bind", "Source": "/", "Target": "/host"}]))
	_denied_by("bind_mount", _with_mounts([{"type": "BIND", "source": "/etc", "target": "/x", "readonly": true}]))
	_denied_by("bind_mount", _with_mounts([{"Type": "volume", "Source": "/etc", "Target": "/x"}]))
	_denied_by(
		"bind_mount",
		_with_mounts([{"Type": "bind", "Source": "/usr/share/zoneinfo/../../../etc", "Target": "/x", "ReadOnly": true}]),
	)
}

test_mounts_of_allowed_paths if {
	_allowed(_with_mounts([{"Type": "bind", "Source": "/usr/share/zoneinfo", "Target": "/z", "ReadOnly": true}]))
	_denied_by("bind_read_only", _with_mounts([{"Type": "bind", "Source": "/usr/share/zoneinfo", "Target": "/z"}]))
	_denied_by(
		"bind_read_only",
		_with_mounts([{"Type": "bind", "Source": "/usr/share/zoneinfo", "Target": "/z", "ReadOnly": false}]),
	)
	_denied_by(
		"bind_read_only",
		_with_mounts([{
			"Type": "bind", "Source": "/usr/share/zoneinfo", "Target": "/z",
			"ReadOnly": true, "readonly": false,
		}]),
	)
	_denied_by("bind_read_only", _with_mounts([{
		"Type": "bind", "Source": "/usr/share/zoneinfo", "Target": "/z", "ReadOnly": true,
		"BindOptions": {"ReadOnlyNonRecursive": true},
	}]))
}

# The plugin reports where a source leads (symbolic links followed when it
# can see the host): a link in an allowed folder that leads out is refused.
test_bind_resolving_outside_the_allow_list_denied if {
	source := "/usr/share/zoneinfo/escape"
	request_input := _with_binds([concat("", [source, ":/x:ro"])])
	_allowed(request_input)
	_denied_by(
		"bind_mount",
		object.union(request_input, {"BindMounts": [{"Source": source, "ReadOnly": true, "Resolved": "/etc"}]}),
	)
	_denied_by(
		"bind_mount",
		object.union(request_input, {"BindMounts": [{"Source": source, "ReadOnly": true, "Resolved": ""}]}),
	)
	_denied_by("bind_mount", object.union(request_input, {"BindMounts": [{"Source": source, "ReadOnly": true}]}))
	_allowed(object.union(request_input, {"BindMounts": [{"Source": "/other", "Resolved": "/other"}]}))
}

test_writable_allow_list_entry if {
	config := _with_config({"bind_mounts": [{"path": "/srv/shared/", "read_only": false}, {"path": "/srv/shared/config"}]})
	rw := _with_binds(["/srv/shared/data:/data"])
	authz.allow with input as rw with data.docker.authz_config as config
	not authz.allow with input as _with_binds(["/srv/sharedx:/data"]) with data.docker.authz_config as config

	# an entry without read_only is read-only
	only_ro := _with_config({"bind_mounts": [{"path": "/srv/shared"}]})
	not authz.allow with input as rw with data.docker.authz_config as only_ro
}

test_allow_listing_the_root_allows_everything if {
	config := _with_config({"bind_mounts": [{"path": "/", "read_only": false}]})
	authz.allow with input as _with_binds(["/etc:/x"]) with data.docker.authz_config as config
}

# ---------------------------------------------------------------------------
# volumes_from, mount_type

test_volumes_from_denied if {
	_denied_by("volumes_from", _create_with({"VolumesFrom": ["web"]}))
	_denied_by("volumes_from", _create_with({"VolumesFrom": ["web:rw"]}))
}

test_mount_type_denied if {
	_denied_by("mount_type", _with_mounts([{"Type": "npipe", "Source": "x", "Target": "/x"}]))
	_denied_by("mount_type", _with_mounts([{"Type": "cluster", "Source": "x", "Target": "/x"}]))
	_denied_by("mount_type", _with_mounts([{"Type": 1, "Target": "/x"}]))
}

# ---------------------------------------------------------------------------
# volume_options

_volume_mount(options) := _with_mounts([{
	"Type": "volume", "Source": "v", "Target": "/v",
	"VolumeOptions": {"DriverConfig": {"Name": "local", "Options": options}},
}])

_volume_create(body) := _request("POST", "/v1.41/volumes/create", body)

test_volume_options_in_mounts_denied if {
	_denied_by("volume_options", _volume_mount({"device": "/etc", "o": "bind", "type": "none"}))
	_denied_by("volume_options", _volume_mount({"device": "/etc", "o": "size=1m,rbind", "type": "tmpfs"}))
	_denied_by("volume_options", _volume_mount({"device": "/dev/sda1", "type": "ext4"}))
	_denied_by("volume_options", _volume_mount({"device": "/etc"}))
	_denied_by("volume_options", _with_mounts([{
		"type": "volume", "target": "/v",
		"volumeoptions": {"driverconfig": {"options": {"type": "overlay", "o": "lowerdir=/,upperdir=/tmp/u,workdir=/tmp/w"}}},
	}]))
}

test_volume_create_with_host_options_denied if {
	# docker volume create --opt type=none --opt o=bind --opt device=/etc v1
	_denied_by(
		"volume_options",
		_volume_create({"Driver": "local", "DriverOpts": {"device": "/etc", "o": "bind", "type": "none"}, "Name": "v1"}),
	)
	_denied_by(
		"volume_options",
		_volume_create({"Driver": "local", "driveropts": {"device": "/dev/sda1", "type": "ext4"}, "Name": "v1"}),
	)
	_denied_by(
		"volume_options",
		_volume_create({"Driver": "local", "DriverOpts": {"type": "tmpfs", "device": "/etc", "O": "bind"}, "Name": "v1"}),
	)
}

test_volumes_allowed if {
	# docker volume create v2
	_allowed(_volume_create({"Driver": "local", "Name": "v2"}))
	_allowed(_volume_create({"Driver": "local", "DriverOpts": {}, "Labels": {}, "Name": "v3"}))

	# docker volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=64m,uid=1000 v4
	_allowed(_volume_create({
		"Driver": "local", "Name": "v4",
		"DriverOpts": {"device": "tmpfs", "o": "size=64m,uid=1000", "type": "tmpfs"},
	}))
	_allowed(_volume_mount({"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}))
	_allowed(_volume_mount(null))
}

# ---------------------------------------------------------------------------
# _clean_path

test_clean_path if {
	authz._clean_path("/") == "/"
	authz._clean_path("//") == "/"
	authz._clean_path("/..") == "/"
	authz._clean_path("/a/b/../../c/./d//e/..") == "/c/d"
	authz._clean_path("/../../x/y/..") == "/x"
	authz._clean_path("/etc/") == "/etc"
	authz._clean_path("/a/../../b") == "/b"
	authz._clean_path("/a/b/c/../../../../d") == "/d"
	not authz._clean_path("relative/path")

	# plain paths are cleaned whatever their length, others up to 64 names
	long_path := concat("", [name | some _ in numbers.range(1, 70); name := "/a"])
	authz._clean_path(concat("", [long_path, "/"])) == long_path
	not authz._clean_path(concat("", [long_path, "/.."]))
}

test_path_within if {
	authz._path_within("/etc", "/etc")
	authz._path_within("/etc/x", "/etc")
	authz._path_within("/etc", "/")
	not authz._path_within("/etcx", "/etc")
	not authz._path_within("", "/")
}

# Without BindMounts (another plugin), the cleaned source alone decides.
test_binds_without_plugin_bind_mounts if {
	_allowed(object.remove(_with_binds(["/etc/localtime:/etc/localtime:ro"]), ["BindMounts"]))
	_denied_by("bind_mount", object.remove(_with_binds(["/etc:/x"]), ["BindMounts"]))
}
