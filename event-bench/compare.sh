#!/usr/bin/env bash
# Runs the Erlang/OTP anchor harness and event-bench in one go, on this machine, and prints
# each shared figure side by side with the ratio (ours / OTP for rates, OTP / ours for times
# and bytes: above 1 means event-core is ahead).
#
#   event-bench/compare.sh [--quick]
#
# Needs erlang-base (apt-get install erlang-base); the anchor lives in ../shared/anchors/erlang.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
anchor="${ANCHOR_DIR:-$root/../shared/anchors/erlang}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v erlc >/dev/null || { echo "erlc not found: apt-get install erlang-base" >&2; exit 1; }
erlc -o "$work" "$anchor/geb.erl" "$anchor/geb_handler.erl"
(cd "$root" && cargo build -q --release -p event-bench)

erl -noshell -pa "$work" -s geb main > "$work/otp.txt"
"$root/target/release/event-bench" "$@" > "$work/ours.txt"

awk '
  NR == FNR { otp[$1] = $2; next }
  { ours[$1] = $2; unit[$1] = $3; order[++n] = $1 }
  END {
    printf "%-36s %16s %16s %8s\n", "figure", "event-core", "OTP", "ratio"
    for (i = 1; i <= n; i++) {
      f = order[i]
      if (!(f in otp)) continue
      u = unit[f]
      higher_is_better = (u ~ /\/s$/)
      r = higher_is_better ? ours[f] / otp[f] : otp[f] / ours[f]
      printf "%-36s %16s %16s %7.2fx  %s\n", f, ours[f], otp[f], r, u
    }
    printf "\nratio > 1: event-core ahead. Both measured in this run, on this machine.\n"
  }
' "$work/otp.txt" "$work/ours.txt"
