#!/bin/sh
# sec-review-12a items 4-6.
# 4: every character corp shows a terminal is cleaned by one rule:
#    Default_Ignorable_Code_Point and Cf become '?' (corp.7 Untrusted
#    text); here every Cf character python3's unicodedata knows.
# 5: CORP_CA_FILE and CORP_SHARE_DIR follow a symbolic link only when
#    root or the operator owns it (its owner chooses what it names).
# 6: corp-send file --out through a link another user planted: 77
#    naming the link, nothing written; corp-tg cgi takes CONTENT_LENGTH
#    only as a plain decimal.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
R=$(realpath "$T")

# ---- 4: every Cf character on stderr --------------------------------
# An unknown command word is echoed on stderr cleaned: x, then each
# character, each followed by an x.
python3 -c '
import sys, unicodedata
cs = [chr(c) for c in range(0x110000)
      if unicodedata.category(chr(c)) == "Cf"]
sys.stdout.write("x" + "".join(c + "x" for c in cs))
open(sys.argv[1], "w").write(str(len(cs)))
' "$T/ncf" > "$T/cf"
ncf=$(cat "$T/ncf")
run corp-task "$(cat "$T/cf")"
word=$(printf '%s\n' "$err" | sed -n "1s/^corp-task: unknown command '\\(.*\\)'.*/\\1/p")
want=$(awk -v n="$ncf" 'BEGIN { s = "x"; for (i = 0; i < n; i++) s = s "?x";
    print s }')
is "$word" "$want" "each of the $ncf Cf characters of python3's Unicode is one '?' on stderr"

# ---- 5 and 6 need another user ------------------------------------
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 ||
    ! command -v setpriv >/dev/null; then
	skip "links of another user: needs root, a user nobody and setpriv"
	done_testing
	exit 0
fi
evil() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}
nob=$(id -u nobody)
chmod 711 "$T"		# the attacker may pass through, as through /home
# A sticky directory others may write, as /tmp: the attacker's links.
mkdir -m 1777 "$T/tmp"
chmod 1777 "$T/tmp"
printf 'not checked here\n' > "$T/ca.pem"
chmod 644 "$T/ca.pem"
tasks() { corp-task list --as admin | wc -l | tr -d ' '; }
before=$(tasks)

# 5: CORP_CA_FILE through the attacker's link to a root-owned bundle.
evil ln -s "$T/ca.pem" "$T/tmp/ca.link"
run env CORP_CA_FILE="$T/tmp/ca.link" corp-task list --as admin
is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/tmp/ca.link: a symbolic link owned by nobody (uid $nob), not by root, who runs corp: its owner chooses what it names; name the file itself, or chown -h root $R/tmp/ca.link" \
    "CORP_CA_FILE through another user's link: 77, naming the link and the fix"
# A link on the way, not the last name: the same.
mkdir -m 755 "$T/cadir"
cp "$T/ca.pem" "$T/cadir/ca.pem"
evil ln -s "$T/cadir" "$T/tmp/dir.link"
run env CORP_CA_FILE="$T/tmp/dir.link/ca.pem" corp-task list --as admin
is "$rc:$err" "77:corp-task: CORP_CA_FILE: $R/tmp/dir.link: a symbolic link owned by nobody (uid $nob), not by root, who runs corp: its owner chooses what it names; name the file itself, or chown -h root $R/tmp/dir.link" \
    "  a link of another user's on the way: 77"
# The operator's own link, in the same directory: used.
ln -s "$T/ca.pem" "$T/tmp/mine.link"
run env CORP_CA_FILE="$T/tmp/mine.link" corp-task list --as admin
is "$rc:$err" "0:" "  the operator's link: used"
is "$(tasks)" "$before" "  nothing was done"

# 5: CORP_SHARE_DIR through the attacker's link to the shipped tree.
evil ln -s "$CORP_SHARE_DIR" "$T/tmp/share.link"
run env CORP_SHARE_DIR="$T/tmp/share.link" corp-task list --as admin
is "$rc:$err" "77:corp-task: CORP_SHARE_DIR: $R/tmp/share.link: a symbolic link owned by nobody (uid $nob), not by root, who runs corp: its owner chooses what it names; name the file itself, or chown -h root $R/tmp/share.link" \
    "CORP_SHARE_DIR through another user's link: 77"
ln -s "$CORP_SHARE_DIR" "$T/tmp/myshare.link"
run env CORP_SHARE_DIR="$T/tmp/myshare.link" corp-task list --as admin
is "$rc:$err" "0:" "  the operator's link: used"

# 6: corp-send file --out through the attacker's link.
printf 'victim\n' > "$T/victim"
evil ln -s "$T/victim" "$T/tmp/out"
evil ln -s "$T/nothing" "$T/tmp/out2"
printf '%s\n' '{"delivery_id":1,"channel":"file","to":"x","text":"t"}' \
    > "$T/in"
for o in out out2; do
	run_in "$T/in" corp-send file --out "$T/tmp/$o"
	is "$rc:$err" "77:corp-send: $T/tmp/$o: a symbolic link (owned by nobody); corp writes through none: remove it or name the file itself; every remaining line passes on as retry" \
	    "--out $o, another user's link: 77 naming it"
done
is "$(cat "$T/victim"):$(ls "$T/nothing" 2>/dev/null)" "victim:" \
    "  nothing written through either"

# 6: CONTENT_LENGTH a plain decimal only.
mkdir -p "$CORP_DATA_DIR/secrets"
printf 'hook-S\n' > "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
chmod 600 "$CORP_DATA_DIR/secrets/telegram_webhook_secret"
printf '{"update_id":17}' > "$T/body"
n=$(wc -c < "$T/body")
for cl in "+$n" " $n" "0$n" "$n " "-$n"; do
	REQUEST_METHOD=POST CONTENT_LENGTH="$cl" \
	    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-S \
	    run_in "$T/body" corp-tg cgi
	is "$rc:$(printf '%s\n' "$out" | head -1 | tr -d '\r')" "65:Status: 400 Bad Request" \
	    "cgi CONTENT_LENGTH '$cl': 400"
done
REQUEST_METHOD=POST CONTENT_LENGTH="$n" \
    HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=hook-S run_in "$T/body" corp-tg cgi
is "$rc:$(printf '%s\n' "$out" | head -1 | tr -d '\r')" "0:Status: 200 OK" \
    "  '$n': spooled"
is "$(ls "$CORP_DATA_DIR/spool/telegram")" "17.json" "  only that one"
done_testing
