#!/bin/sh
# The Debian package (issue 21.5), as an operator gets it: built with
# dpkg-buildpackage -us -uc -b from a copy of the tree, installed into
# this machine with dpkg, then the tour from the installed files only
# (/usr/bin on PATH, no CORP_SHARE_DIR: the catalogs are found in
# /usr/share/corp): corp db init, a task, its route, its delivery to the
# file channel rendered from the installed catalog; corp help, the
# completion, the units and logrotate where the package puts them; then
# dpkg --purge leaves none of its files.
#
# Minutes of build (the whole tree with the package's flags) and it
# changes the machine (a package, the corp system user), so it runs only
# with CORP_TEST_DEB=1: make check-deb, which .ci/run calls; make check
# skips it.  It refuses to run over a corp package installed by other
# means.
. "${CORP_SRC:-.}/tests/lib.sh"
if [ "${CORP_TEST_DEB:-}" != 1 ]; then
	echo "1..0 # SKIP the package test runs under make check-deb (CORP_TEST_DEB=1)"
	exit 0
fi
sqlite_only "the package's tour uses its own SQLite database"
for t in dpkg-buildpackage dh fakeroot; do
	command -v $t >/dev/null 2>&1 || bail "$t is missing: make deps-deb"
done
if dpkg-query -W -f='${Status}' corp 2>/dev/null | grep -q installed; then
	bail "a corp package is installed already; dpkg --purge corp first"
fi
[ "$(id -u)" = 0 ] || bail "dpkg -i needs root"
had_user=$(getent passwd corp >/dev/null && echo yes)
purge() {
	dpkg --purge corp >/dev/null 2>&1
	[ -n "$had_user" ] || userdel corp >/dev/null 2>&1
	_cleanup
}
trap purge EXIT

# ---- build --------------------------------------------------------------
# A copy, so that nothing of the tree's build dirs is used or removed and
# the .deb lands in $T/, not beside the tree.
mkdir -p "$T/src/corp"
tar -C "$CORP_SRC" --exclude=./build --exclude=./build-san \
    --exclude=./build-fuzz --exclude=./build-deb --exclude=./.git -cf - . |
    tar -C "$T/src/corp" -xf -
version=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$CORP_SRC/Makefile")
arch=$(dpkg --print-architecture)
(cd "$T/src/corp" && dpkg-buildpackage -us -uc -b -j2) >"$T/build.log" 2>&1
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b" ||
    tail -20 "$T/build.log" | sed 's/^/# /'
deb=$T/src/corp_${version}_$arch.deb
[ -f "$deb" ] || bail "no $deb"
pass "built corp_${version}_$arch.deb"

# ---- install ----------------------------------------------------------------
run dpkg -i "$deb"
is "$rc" 0 "dpkg -i installs it (its Depends are met here)" ||
    printf '%s\n' "$err" | sed 's/^/# /'
for f in /usr/bin/corp /usr/bin/corp-task /usr/bin/corp-pipeline \
    /usr/share/corp/i18n/en.txt /usr/share/man/man1/corp.1.gz \
    /usr/share/man/man7/corp.7.gz /usr/share/man/man5/corp-json.5.gz \
    /usr/share/bash-completion/completions/corp \
    /usr/share/bash-completion/completions/corp-task \
    /usr/share/zsh/vendor-completions/_corp \
    /lib/systemd/system/corp-route.service \
    /lib/systemd/system/corp-deliver@.service \
    /lib/systemd/system/corp-pipeline.timer /etc/logrotate.d/corp \
    /usr/share/doc/corp/examples/crontab \
    /usr/share/doc/corp/examples/postgresql-tcp.conf; do
	[ -e "$f" ] && pass "installed $f" || fail "installed $f"
done
like "$(grep '^ExecStart=' /lib/systemd/system/corp-route.service)" \
    "^ExecStart=/usr/bin/corp-event route --follow" \
    "the units run /usr/bin's programs"
is "$(getent passwd corp | cut -d: -f6)" /var/lib/corp \
    "the corp system user, home /var/lib/corp (systemd-sysusers)"
if command -v systemd-analyze >/dev/null 2>&1; then
	run systemd-analyze verify --man=no /lib/systemd/system/corp-route.service \
	    /lib/systemd/system/corp-pipeline.service \
	    /lib/systemd/system/corp-pipeline.timer
	is "$rc:$err" "0:" "systemd-analyze verify: the installed units"
fi
if command -v logrotate >/dev/null 2>&1; then
	run logrotate -d /etc/logrotate.d/corp
	is "$rc" 0 "logrotate -d /etc/logrotate.d/corp"
fi

# ---- the tour from the installed files --------------------------------------
# Only the package's programs: /usr/bin first, none of the build's, and
# no CORP_SHARE_DIR (make check sets it to the tree's share/).
unset CORP_SHARE_DIR
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
export CORP_DATA_DIR=$T/data
i() { run "$@"; is "$rc" 0 "$*" || printf '%s\n' "$err" | sed 's/^/# /'; }
run corp --version
is "$rc:$out" "0:corp $version" "corp --version: the installed one"
i corp db init --admin boss
i corp org add sales --title Sales --head boss
i corp user add ann --name "Ann Lee" --unit sales --lang en
i corp bind add --user ann --channel file --address ann
i corp settings config set default_channel file
i corp settings config set base_url https://corp.example
i corp settings notify set --event-type TASK_CREATED --role executor \
    --channel file
i corp task create --as boss --title "Q1 sales report" --assignee ann
i corp event route
i corp deliver run --channel file --until-empty
is "$(jq -r .text "$CORP_DATA_DIR/outbox.jsonl" | head -1)" \
    "📋 You have a new task: <b>Q1 sales report</b>" \
    "the file channel got the task, rendered from /usr/share/corp's catalog"
run sh -c 'corp deliver stats | jq -c ".queue[] | [.channel, .status, .count]"'
is "$out" '["file","SENT",1]' "corp deliver stats: the row is SENT"
run env MANPAGER=cat PAGER=cat MANWIDTH=80 corp help task
like "$out" "corp-task .* create tasks and move them" \
    "corp help task: the installed page"
run bash -c '. /usr/share/bash-completion/completions/corp
    COMP_WORDS=(corp task cr); COMP_CWORD=2; _corp; echo "${COMPREPLY[*]}"'
is "$out" "create" "the installed bash completion: corp task cr<TAB>"

# ---- purge ------------------------------------------------------------------
run dpkg --purge corp
is "$rc" 0 "dpkg --purge corp"
left=
for f in /usr/bin/corp /usr/bin/corp-task /usr/share/corp /etc/logrotate.d/corp \
    /lib/systemd/system/corp-route.service \
    /usr/share/bash-completion/completions/corp; do
	[ -e "$f" ] && left="$left $f"
done
is "$left" "" "none of its files is left"

done_testing
