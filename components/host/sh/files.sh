# shellcheck shell=sh
# Files in one folder, written so that no reader sees a half-written one, and read back as `<name> <base64>`
# lines. Names are plain (letters, digits, . _ -; files.ts checks them) and contents come as base64 arguments.

# hdh_files_write DIR MODE KEEP [NAME BASE64]...: every file goes to a temp file in DIR first, then all are
# renamed; with KEEP (a shell pattern, e.g. *), every other file of DIR that matches it is removed.
hdh_files_write() {
  dir=$1 mode=$2 keep=$3; shift 3
  case "$mode" in
    [0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) ;;
    *) echo "hdh_files_write: $mode is not an octal file mode" >&2; return 1 ;;
  esac
  umask 022
  mkdir -p "$dir" || return 1
  # Temp files as `<temp> <name>` lines: their names are ours (no spaces), whatever DIR is.
  staged=$(mktemp "$dir/.hdh-list-XXXXXX") || return 1
  names=' '
  while [ $# -ge 2 ]; do
    if ! { t=$(mktemp "$dir/.hdh-XXXXXX") && printf '%s %s\n' "${t##*/}" "$1" >> "$staged" \
      && printf '%s' "$2" | base64 -d > "$t" && chmod "$mode" "$t"; }; then
      hdh_files_unstage "$dir" "$staged"; return 1
    fi
    names="$names$1 "; shift 2
  done
  moved=yes
  while read -r t name; do mv -f "$dir/$t" "$dir/$name" || { moved=no; break; }; done < "$staged"
  hdh_files_unstage "$dir" "$staged"
  [ "$moved" = yes ] || return 1
  [ -n "$keep" ] || return 0
  # shellcheck disable=SC2086 # KEEP is a pattern: it must glob
  for f in "$dir"/$keep; do
    [ -e "$f" ] || continue
    case "$names" in *" ${f##*/} "*) ;; *) rm -f "$f" ;; esac
  done
}

# hdh_files_unstage DIR LIST: removes the temp files left (none once all were renamed), and their list.
hdh_files_unstage() {
  while read -r t _; do rm -f "$1/$t"; done < "$2"
  rm -f "$2"
}

# hdh_files_remove DIR NAME...: removes the named files of DIR.
hdh_files_remove() {
  dir=$1; shift
  for name in "$@"; do rm -f "$dir/$name" || return 1; done
}

# hdh_files_read DIR KEEP [NAME]...: `<name> <base64>` for each named file of DIR that exists and, with KEEP, for
# every other file matching it (so stray files show up).
hdh_files_read() {
  dir=$1 keep=$2; shift 2
  for name in "$@"; do hdh_file_line "$dir/$name"; done
  [ -n "$keep" ] || return 0
  # shellcheck disable=SC2086 # KEEP is a pattern: it must glob
  for f in "$dir"/$keep; do
    case " $* " in *" ${f##*/} "*) ;; *) hdh_file_line "$f" ;; esac
  done
}

hdh_file_line() {
  [ -f "$1" ] || return 0
  printf '%s %s\n' "${1##*/}" "$(base64 -w0 < "$1")"
}
