#!/bin/sh
# The release gate that deploy/ci/github-actions.yml and deploy/ci/gitlab-ci.yml run,
# as one plain script: every CI runs the same two steps, and tests/e2e/test_deploy_ci.py
# runs exactly them against a real nginx.
#
#   1. ngxwatch lint --format sarif --fail-on warning on the rendered nginx config
#      (OUT/lint.sarif, for code scanning); a warning stops the release here.
#   2. ngxwatch gate around a large-POST load against the candidate (POSTS uploads of
#      POST_MIB MiB each to URL): the attributed verdict on stdout, OUT/gate-junit.xml
#      for the CI's test report; fails over MAX_CLIENT_ERRORS client-visible errors or
#      on any of the FAIL_ON causes.
#
# Usage: deploy/ci/release-gate.sh RENDERED_NGINX_CONF URL
# Environment (defaults): NGXWATCH (ngxwatch), OUT (ngxwatch-report), POSTS (8),
#   POST_MIB (8), HOST_HEADER (the URL's host), MAX_CLIENT_ERRORS (0),
#   FAIL_ON (upstream_reset_sending_body,upstream_reset_before_header,keepalive_race)
# Exit: 0 pass; lint's exit (1 findings, 2 unreadable config); gate's exit (1 over a
# threshold, 2 setup error, else the load's status). The gate needs root (BPF): not
# root, it runs through sudo (a CI runner's passwordless sudo); the load itself then
# runs as the calling user.
#
# Internal: release-gate.sh --load URL BODY_FILE HOST POSTS is the load step itself.
set -eu

if [ "${1:-}" = "--load" ]; then
  # Like wrk or k6: a failed request is counted, not fatal; judging is the gate's job.
  # "Expect:" turns off curl's Expect: 100-continue for bodies over 1 MiB: ngxwatch
  # takes the interim 100 for the response head and then misses the final status
  # (a known gap), so the client-visible errors would not be counted.
  url=$2 body=$3 host=$4 posts=$5 i=0 codes=""
  while [ "$i" -lt "$posts" ]; do
    code=$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 60 \
      --header "Host: $host" --header "Content-Type: application/octet-stream" --header "Expect:" \
      --data-binary "@$body" "$url" 2>/dev/null) || true
    codes="$codes ${code:-000}"
    i=$((i + 1))
  done
  echo "release-gate: load: $posts POSTs to $url, statuses:$codes"
  exit 0
fi

if [ $# -ne 2 ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
conf=$1 url=$2
ngxwatch=${NGXWATCH:-ngxwatch}
out=${OUT:-ngxwatch-report}
posts=${POSTS:-8}
post_mib=${POST_MIB:-8}
host=${HOST_HEADER:-$(echo "$url" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')}
max_client_errors=${MAX_CLIENT_ERRORS:-0}
fail_on=${FAIL_ON:-upstream_reset_sending_body,upstream_reset_before_header,keepalive_race}
mkdir -p "$out"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo --preserve-env=PATH "$@"; fi
}

echo "release-gate: 1/2 lint $conf"
rc=0
"$ngxwatch" lint --format sarif --fail-on warning "$conf" >"$out/lint.sarif" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "release-gate: lint failed ($rc): the findings are in $out/lint.sarif; as text:" >&2
  "$ngxwatch" lint "$conf" >&2 || true
  exit "$rc"
fi

echo "release-gate: 2/2 gate: $posts POSTs of $post_mib MiB to $url"
head -c $((post_mib * 1048576)) /dev/zero >"$out/body.bin"
set +e
as_root "$ngxwatch" gate --junit "$out/gate-junit.xml" --max-client-errors "$max_client_errors" \
  --fail-on "$fail_on" -- "$0" --load "$url" "$out/body.bin" "$host" "$posts"
rc=$?
set -e
rm -f "$out/body.bin"
echo "release-gate: gate exited $rc (JUnit report: $out/gate-junit.xml)"
exit "$rc"
