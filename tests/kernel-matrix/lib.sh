# Shared by the kernel-matrix scripts (sourced, not run).
# shellcheck shell=bash

# Downloads, extracted kernels and root filesystems live here so a second run is fast.
CACHE=${NGXWATCH_MATRIX_CACHE:-/var/cache/ngxwatch-matrix}
MIRROR=${NGXWATCH_MATRIX_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${NGXWATCH_MATRIX_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The kernels of the matrix: a short name and the Debian suite whose kernel it is.
KERNELS=(5.10 6.1 6.12 sid)
ARCHES=(amd64 arm64)

die() {
  echo "${0##*/}: $*" >&2
  exit 2
}

log() {
  echo "[$(date -u +%H:%M:%S)] ${0##*/}: $*" >&2
}

suite_of() {
  case "$1" in
    5.10 | bullseye) echo bullseye ;;
    6.1 | bookworm) echo bookworm ;;
    6.12 | trixie) echo trixie ;;
    sid | newest | unstable) echo sid ;;
    *) die "unknown kernel '$1' (one of: ${KERNELS[*]})" ;;
  esac
}

check_arch() {
  case "$1" in
    amd64 | arm64) ;;
    *) die "unknown arch '$1' (one of: ${ARCHES[*]})" ;;
  esac
}

# Private apt state for one suite x arch: the system's sources, lists and dpkg status are
# never read or written. With SECURITY=0 the suite's security archive is left out (a
# mirror may list a security build whose file is not there yet). Prints the apt
# options on stdout, one per line.
apt_opts() {
  local suite=$1 arch=$2 security=${3:-1}
  local d=$CACHE/apt/$suite-$arch-s$security
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts" "$d/prefs"
  : >"$d/status"
  {
    echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $suite main"
    if [ "$suite" != sid ] && [ "$security" = 1 ]; then
      echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $SECURITY_MIRROR $suite-security main"
    fi
  } >"$d/sources.list"
  printf '%s\n' \
    -o "Dir::Etc::SourceList=$d/sources.list" \
    -o "Dir::Etc::SourceParts=$d/parts" \
    -o "Dir::Etc::PreferencesParts=$d/prefs" \
    -o "Dir::State=$d" \
    -o "Dir::State::Lists=$d/lists" \
    -o "Dir::State::status=$d/status" \
    -o "Dir::Cache=$d/cache" \
    -o "APT::Architecture=$arch" \
    -o "APT::Architectures=$arch" \
    -o "APT::Sandbox::User=root"
}

kernel_dir() {
  echo "$CACHE/kernels/$(suite_of "$1")-$2"
}

rootfs_dir() {
  echo "$CACHE/rootfs/bookworm-$1"
}
