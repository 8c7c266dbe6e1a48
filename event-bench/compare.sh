#!/usr/bin/env bash
# Runs the Erlang/OTP anchor harness and event-bench in one go, on this machine, and prints
# each shared figure side by side with the ratio (ours / OTP for rates, OTP / ours for times
# and bytes: above 1 means event-core is ahead).
#
#   event-bench/compare.sh [--quick]
#
# OTP has one way to bring a crashed handler back (a process holding add_sup_handler that
# re-installs it on gen_event_EXIT): restart_inplace is compared with that, restart_guard.
#
# The dynamic_guards figures (a simple_one_for_one supervisor of 10,000 and 100,000 guards)
# come from this project's own OTP module, event-bench/otp/geb_children.erl.
#
# The scaling figures (fanin_pN, dispatch_hN, managers_kN_*, watch_sN_*, timers_tN_*,
# dynamic_children_cN_*) come from the anchor's scale/ harness, at its full sizes; event-bench
# runs the same sizes (--quick sends fewer events for the rates). After the side-by-side
# table, "growth" sets each figure beside the same one a size down: the per-item cost's
# ratio (ms totals divided by the items first; ns and B are per item already), or the rate's;
# 1.00 is flat, and a cost growing with the work shows above the size ratio's share.
#
# Needs erlang-base (apt-get install erlang-base); the anchor lives in ../shared/anchors/erlang.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
anchor="${ANCHOR_DIR:-$root/../shared/anchors/erlang}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v erlc >/dev/null || { echo "erlc not found: apt-get install erlang-base" >&2; exit 1; }
erlc -o "$work" "$anchor/geb.erl" "$anchor/geb_handler.erl" "$root"/event-bench/otp/*.erl \
  "$anchor"/scale/*.erl
(cd "$root" && cargo build -q --release -p event-bench)
target="${CARGO_TARGET_DIR:-$root/target}"

erl -noshell -pa "$work" -s geb main > "$work/otp.txt"
erl -noshell -pa "$work" -s geb_children main >> "$work/otp.txt"
erl -noshell -pa "$work" -run scale main >> "$work/otp.txt"
"$target/release/event-bench" "$@" > "$work/ours.txt"

awk '
  NR == FNR { otp[$1] = $2; next }
  { ours[$1] = $2; unit[$1] = $3; order[++n] = $1 }
  END {
    printf "%-36s %16s %16s %8s\n", "figure", "event-core", "OTP", "ratio"
    for (pass = 1; pass <= 2; pass++) {
      if (pass == 2)
        printf "\nevent-core on a current-thread runtime (_ct), against the same OTP figures:\n"
      for (i = 1; i <= n; i++) {
        f = order[i]
        a = f
        if (pass == 2 && !sub(/_ct$/, "", a)) continue
        if (pass == 1 && f ~ /_ct$/) continue
        sub(/^restart_inplace_/, "restart_guard_", a)
        if (!(a in otp)) continue
        u = unit[f]
        higher_is_better = (u ~ /\/s$/)
        r = higher_is_better ? ours[f] / otp[a] : otp[a] / ours[f]
        printf "%-36s %16s %16s %7.2fx  %s\n", f, ours[f], otp[a], r, u
      }
    }
    printf "\nratio > 1: event-core ahead. Both measured in this run, on this machine.\n"
    printf "\n%-36s %10s %16s %16s\n", "growth (per item, to this size)", "size x", "event-core", "OTP"
    for (i = 1; i <= n; i++) {
      f = order[i]
      if (f ~ /_ct$/ || f !~ /^(fanin_p|dispatch_h|managers_k|watch_s|timers_t|dynamic_children_c|dynamic_guards_c)[0-9]/) continue
      if (!match(f, /_[a-z]+[0-9]+(_|$)/)) continue
      seg = substr(f, RSTART, RLENGTH)
      match(seg, /[0-9]+/)
      size = substr(seg, RSTART, RLENGTH) + 0
      fam = f
      sub(/[0-9]+(_|$)/, "N&", fam)
      sub(/N[0-9]+/, "N", fam)
      u = unit[f]
      if ((fam in last) && (f in otp) && (lastf[fam] in otp)) {
        p = lastf[fam]
        if (u ~ /\/s$/) { g = ours[f] / ours[p]; go = otp[f] / otp[p] }
        else if (u == "ms") { g = (ours[f] / size) / (ours[p] / last[fam]); go = (otp[f] / size) / (otp[p] / last[fam]) }
        else { g = ours[f] / ours[p]; go = otp[f] / otp[p] }
        printf "%-36s %10.0f %15.2fx %15.2fx  %s\n", f, size / last[fam], g, go, (u ~ /\/s$/) ? "rate" : "cost"
      }
      last[fam] = size
      lastf[fam] = f
    }
    printf "\n%-36s %16s %16s %8s\n", "notify_throughput against", "event-core", "peer", "ratio"
    split("floor_direct peer_broadcast peer_ractor", peers, " ")
    for (h = 10; h <= 100; h *= 10) {
      f = "notify_throughput_h" h
      for (j = 1; j <= 3; j++) {
        p = peers[j] "_h" h
        if ((f in ours) && (p in ours))
          printf "%-36s %16s %16s %7.2fx  events/s\n", p, ours[f], ours[p], ours[f] / ours[p]
      }
    }
    printf "\n%-36s %16s %16s %8s\n", "call against", "event-core", "tokio floor", "ratio"
    split("p50 p99 p50_ct p99_ct", tags, " ")
    for (j = 1; j <= 4; j++) {
      f = "call_" tags[j]
      p = "floor_call_" tags[j]
      if ((f in ours) && (p in ours))
        printf "%-36s %16s %16s %7.2fx  ns\n", p, ours[f], ours[p], ours[p] / ours[f]
    }
  }
' "$work/otp.txt" "$work/ours.txt"

# Across two processes: OTP's two nodes (the anchor's gebd.sh) beside two managers in two
# processes through a local nats-server (event-bench-dist), and the broker's own floor measured
# in the same run. Skipped, with a line saying so, where nats-server is not installed.
if ! command -v nats-server >/dev/null; then
  echo
  echo "distributed figures skipped: nats-server not found (apt-get install nats-server)"
  exit 0
fi
(cd "$root" && cargo build -q --release -p event-bench --bin event-bench-dist)
quick=""; for a in "$@"; do [ "$a" = --quick ] && quick=--quick; done
bash "$anchor/gebd.sh" > "$work/otp_dist.txt"
"$target/release/event-bench-dist" $quick > "$work/ours_dist.txt"
awk '
  NR == FNR { otp[$1] = $2; next }
  { ours[$1] = $2; unit[$1] = $3; order[++n] = $1 }
  END {
    printf "\n%-36s %16s %16s %8s\n", "across two processes", "event-core", "OTP", "ratio"
    for (i = 1; i <= n; i++) {
      f = order[i]
      if (!(f in otp)) continue
      r = (unit[f] ~ /\/s$/) ? ours[f] / otp[f] : otp[f] / ours[f]
      printf "%-36s %16s %16s %7.2fx  %s\n", f, ours[f], otp[f], r, unit[f]
    }
    printf "\n%-36s %16s %16s %8s\n", "against the broker floor", "event-core", "floor", "ratio"
    split("dist_call_p50:floor_nats_request_p50 dist_call_p99:floor_nats_request_p99 dist_sync_notify_p50:floor_nats_request_p50 dist_notify_throughput:floor_js_throughput", pairs, " ")
    for (j = 1; j <= 4; j++) {
      split(pairs[j], fp, ":")
      f = fp[1]; p = fp[2]
      if (!((f in ours) && (p in ours))) continue
      r = (unit[f] ~ /\/s$/) ? ours[f] / ours[p] : ours[p] / ours[f]
      printf "%-36s %16s %16s %7.2fx  %s\n", f, ours[f], ours[p], r, unit[f]
    }
    printf "\nOTP: at most once, node to node. event-core: through the broker, events at least once\n"
    printf "on the wire and once in the handlers (acked, deduplicated); calls at most once, as OTP.\n"
  }
' "$work/otp_dist.txt" "$work/ours_dist.txt"
