# Sourced by the entry points that need root (BPF programs, nginx on its ports): as
# root nothing happens; a user with sudo re-runs the script through it (asked once);
# without sudo, one line says how to run it. Usage: become_root NAME "$0" "$@"
become_root() {
  local name=$1
  shift
  [ "$(id -u)" -eq 0 ] && return 0
  if command -v sudo >/dev/null 2>&1; then
    echo "$name: needs root (BPF programs, nginx ports): re-running with sudo" >&2
    exec sudo --preserve-env=CI,NGXWATCH_BIN,NGXWATCH_FUZZ_SECONDS,NGXWATCH_MATRIX "$@"
  fi
  echo "$name: needs root (BPF programs, nginx ports) and there is no sudo: run it as root" >&2
  exit 1
}
