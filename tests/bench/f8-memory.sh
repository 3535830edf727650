#!/bin/sh
# Figure 8: memory -- peak RSS (/usr/bin/time -v) of corp-deliver run
# over 100 000 deliveries (skipped until corp-deliver run exists), and of
# corp-deliver pending and ack over the same rows, against the peak RSS
# of the sqlite3 CLI reading one batch of those rows.
. "$CORP_SRC/tests/bench/lib.sh"

rows=100000
users=1000
limit=1000
[ -x /usr/bin/time ] || { skipped "8 peak RSS" "/usr/bin/time missing"; exit 0; }
# The routed drain queue, grown by SQL copies of its first event (in
# route's layout) to 100 000 rows: routing 100 events through corp would
# cost more than the figure.
queue_template "$BT/drain-template" "$DRAIN_EVENTS" "$DRAIN_USERS"
if [ ! -d "$BT/f8-template" ]; then
	use_template "$BT/drain-template" "$BT/f8-template" normal
	grow_queue $((rows / users))
fi
[ "$(CORP_DATA_DIR="$BT/f8-template" pending_count)" = "$rows" ] ||
    die "f8: expected $rows PENDING rows"

# rss_kib CMD...: peak RSS in KiB of CMD (stdout to /dev/null).
rss_kib() {
	/usr/bin/time -v "$@" 2>"$BT/f8.time" >/dev/null || {
		cat "$BT/f8.time" >&2; return 1; }
	sed -n 's/.*Maximum resident set size (kbytes): //p' "$BT/f8.time"
}

use_template "$BT/f8-template" "$BT/f8-base" normal
base=$(rss_kib sqlite3 "$CORP_DATA_DIR/corp.db" \
    "SELECT * FROM deliveries d JOIN users u ON u.id = d.user_id
    JOIN events e ON e.event_id = d.event_id LIMIT $limit") ||
    die "f8: sqlite3 failed"

# pending and ack, batch by batch over all rows (quick mode: the first
# 20 000 rows; a process's peak depends on its batch, not on the queue).
if [ "$BENCH" = full ]; then n=$rows; else n=20000; fi
use_template "$BT/f8-template" "$BT/f8-pipe" normal
pmax=0
amax=0
i=0
while [ "$i" -lt $((n / limit)) ]; do
	p=$(rss_kib sh -c "corp-deliver pending --channel telegram --limit $limit \
	    > '$BT/f8.lines'") || die "f8: pending failed"
	nosend < "$BT/f8.lines" > "$BT/f8.acks"
	a=$(rss_kib sh -c "corp-deliver ack --batch $limit < '$BT/f8.acks'") ||
	    die "f8: ack failed"
	[ "$p" -gt "$pmax" ] && pmax=$p
	[ "$a" -gt "$amax" ] && amax=$a
	i=$((i + 1))
done
note "peak RSS: pending $pmax KiB, ack $amax KiB (batches of $limit, $n rows); sqlite3 CLI $base KiB"
mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
record "8 peak RSS" "$(mib "$pmax")" MiB \
    "sqlite3 CLI, one batch" "$(mib "$base")" - \
    "label=pending_--limit_$limit rows=$n pending_limit=$limit"
record "8 peak RSS" "$(mib "$amax")" MiB \
    "sqlite3 CLI, one batch" "$(mib "$base")" - \
    "label=ack_--batch_$limit rows=$n ack_batch=$limit"

if ! corp_has_run; then
	skipped "8 peak RSS (run)" "corp-deliver run does not exist yet"
	exit 0
fi
nginx_start || { skipped "8 peak RSS (run)" "no nginx"; exit 0; }
trap nginx_stop EXIT
export CORP_TELEGRAM_API="http://127.0.0.1:$NGINX_PORT"
export CORP_TELEGRAM_TOKEN=123:bench CORP_RATE_LIMIT=off
use_template "$BT/f8-template" "$BT/f8-run" normal
t=$(now_ns)
/usr/bin/time -v -o "$BT/f8-run.time" corp-deliver run $(run_args) \
    --until-empty >"$BT/run.out" 2>"$BT/run.err" ||
    note "run exited $?: $(head -c 300 "$BT/run.err")"
ms=$(ms_since "$t")
r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$BT/f8-run.time")
left=$(pending_count)
note "corp-deliver run: peak RSS $r KiB, $left of $rows rows left PENDING, $ms ms"
[ "$left" = 0 ] || die "f8: run left $left rows PENDING"
record "8 peak RSS" "$(mib "$r")" MiB "sqlite3 CLI, one batch" "$(mib "$base")" \
    '<=16MiB' "label=run_over_${rows}_rows ms=$ms rows=$rows channel=telegram stub=nginx"
