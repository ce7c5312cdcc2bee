#!/usr/bin/env bash
# Writes the fleet's SSH private key, given by the CI in SSH_PRIVATE_KEY, to the file the stack config names
# (`hostDefaults.privateKeyPath`, relative to the project or absolute), mode 0600 in a 0700 folder it creates.
#
#   SSH_PRIVATE_KEY=... scripts/pipeline/ssh-key.sh STACK
#
# The stack config keeps the path, never the key: set it once, e.g.
#   pulumi config set --path hostDefaults.privateKeyPath .secrets/fleet_ssh_key --stack STACK
# (and keep .secrets/ in .gitignore). The key is never printed; remove the file when the job ends.
export STAGE=ssh-key # the name lib.sh puts before every line
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -eq 1 ] || { echo "usage: SSH_PRIVATE_KEY=... ssh-key.sh STACK" >&2; exit 2; }
STACK=$1
[ -n "${SSH_PRIVATE_KEY:-}" ] || die "SSH_PRIVATE_KEY is empty: set it from the CI's secrets"
pipeline_passphrase
key=$(cd "$PROJECT_DIR" && pulumi config get --path hostDefaults.privateKeyPath --stack "$STACK" 2>/dev/null) || key=""
[ -n "$key" ] || die "stack $STACK names no hostDefaults.privateKeyPath: set it to where the CI writes the key, e.g." \
  "pulumi config set --path hostDefaults.privateKeyPath .secrets/fleet_ssh_key --stack $STACK"
case $key in /*) ;; *) key="$PROJECT_DIR/$key" ;; esac
dir=$(dirname "$key")
if [ ! -d "$dir" ]; then mkdir -p "$dir"; chmod 700 "$dir"; fi
if git -C "$PROJECT_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
  && [[ $key == "$PROJECT_DIR"/* ]] && ! git -C "$PROJECT_DIR" check-ignore -q "$key"; then
  die "$key is inside the repository and not ignored by git: add its folder to .gitignore first"
fi
(
  umask 077
  # Keys pasted into a CI secret may carry CR line ends, or lose the final newline OpenSSH needs.
  printf '%s\n' "${SSH_PRIVATE_KEY//$'\r'/}" >"$key.tmp"
)
chmod 600 "$key.tmp"
mv "$key.tmp" "$key"
say "wrote the SSH key for stack $STACK to $key (mode 0600)"
echo "$key"
