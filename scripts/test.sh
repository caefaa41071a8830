#!/usr/bin/env bash
# The one test command for a fresh machine (README): ./scripts/test.sh
#
# 1. ensures the pinned Deno (scripts/ensure-deno.sh installs it from npm into .tools/ on first use);
# 2. ensures the system programs the tests drive: mosquitto, mosquitto_pub/_sub/_passwd, chromium
#    (the report test renders HTML headless), openssl (crypto interop tests) and PostgreSQL's initdb and
#    postgres (the shared replay state tests start a throw-away server). As root, missing
#    ones are installed with apt-get; otherwise the script names them and stops, unless
#    SECMQTT_SKIP_SYSTEM_TESTS=1 (the tests that need them are then skipped, outside CI only);
# 3. runs `deno task test`, ends with a plain `tests: N passed, N failed` line, and exits with its code.
#
# Works from any directory. System services are left alone: the tests start their own Mosquitto
# processes on free loopback ports and stop them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "test.sh: $*" >&2; }

# program -> Debian package(s) that provide it (chromium gets a font: recommends are not installed)
declare -A provider=(
  [mosquitto]=mosquitto
  [mosquitto_passwd]=mosquitto
  [mosquitto_pub]=mosquitto-clients
  [mosquitto_sub]=mosquitto-clients
  [chromium]="chromium fonts-liberation"
  [openssl]=openssl
  [initdb]=postgresql
)

# Debian keeps initdb and postgres off PATH, under /usr/lib/postgresql/<major>/bin.
postgres_path() { find /usr/lib/postgresql -maxdepth 3 -path '*/bin/initdb' -printf '%h:' 2>/dev/null || true; }
have() { PATH="$PATH:/usr/sbin:/usr/local/sbin:$(postgres_path)" command -v "$1" >/dev/null 2>&1; }

missing_packages() {
  local program packages=()
  for program in "${!provider[@]}"; do
    # shellcheck disable=SC2206 # a value may name two packages
    have "$program" || packages+=(${provider[$program]})
  done
  [ ${#packages[@]} -eq 0 ] || printf '%s\n' "${packages[@]}" | sort -u | tr '\n' ' '
}

deno="$("$root/scripts/ensure-deno.sh")"
say "$("$deno" --version | head -1)"

missing="$(missing_packages)"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $missing >&2
    missing="$(missing_packages)"
    [ -z "$missing" ] || { say "still missing after apt-get: $missing"; exit 1; }
  elif [ "${SECMQTT_SKIP_SYSTEM_TESTS:-}" = 1 ]; then
    say "missing $missing; SECMQTT_SKIP_SYSTEM_TESTS=1, so the tests that need them are skipped (not in CI)"
  else
    say "missing system packages: install them with 'sudo apt-get install $missing' (or set SECMQTT_SKIP_SYSTEM_TESTS=1 to skip the tests that need them)"
    exit 1
  fi
fi
version_of() { # first line of a program's version output, or "<program> missing"
  local program="$1"
  shift
  if have "$program"; then
    { PATH="$PATH:/usr/sbin:/usr/local/sbin:$(postgres_path)" "$program" "$@" 2>/dev/null || true; } | head -1
  else
    echo "$program missing"
  fi
}
say "$(version_of mosquitto -h) | $(version_of chromium --version) | $(version_of openssl version) | $(version_of postgres --version)"

say "running: deno task test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
"$deno" task test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# A plain closing line in the form test harnesses read: "tests: N passed, N failed".
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)"
passed="$(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')"
failed="$(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')"
if [ -n "$summary" ]; then
  echo "tests: ${passed} passed, ${failed} failed"
fi
exit "$status"
