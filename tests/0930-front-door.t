#!/bin/sh
# corp, the front door (corp(1), issue 21.1): "corp TOOL ..." runs
# corp-TOOL (beside corp first, then on PATH, no shell), "corp help TOOL
# [VERB]" opens the page (at the verb), "corp" lists the tools from
# their man pages, an unknown tool gets a "did you mean"; and the bash
# and zsh completion generated from the tools' --cli-spec, as make
# install installs them, driven through COMP_WORDS.
. "${CORP_SRC:-.}/tests/lib.sh"
setup
B=${CORP_BUILD:-$CORP_SRC/build}

# ---- the list and the version --------------------------------------------
run corp
is "$rc" 0 "corp alone exits 0"
missing=
for m in "$CORP_SRC"/man/corp-*.1; do
	n=${m##*/corp-}; n=${n%.1}
	d=$(sed -n 's/^\.Nd //p' "$m")
	printf '%s\n' "$out" | grep -qxF "   $(printf '%-16s' "$n") $d" ||
	    missing="$missing $n"
done
is "$missing" "" "corp lists every man/corp-*.1 with its NAME line"
like "$out" "usage: corp TOOL" "the list starts with the usage"
run corp -h
is "$rc:$(printf '%s' "$out" | head -1)" "0:usage: corp TOOL [ARGS...]      run corp-TOOL ARGS..." \
    "corp -h: the same list"

version=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$CORP_SRC/Makefile")
run corp --version
is "$rc:$out" "0:corp $version" "corp --version: the Makefile's VERSION"
run corp-task --version
is "$out" "corp-task $version" "the same as a tool's"
if [ -f "$CORP_SRC/debian/changelog" ]; then
	is "$(sed -n '1s/^corp (\([^)]*\)).*/\1/p' "$CORP_SRC/debian/changelog")" \
	    "$version" "debian/changelog's version is the Makefile's"
fi

# ---- dispatch ----------------------------------------------------------------
run corp org add sales --title Sales --head admin
is "$rc" 0 "corp org add runs corp-org add"
run corp user add ann --name "Ann Lee" --unit sales
is "$rc" 0 "corp user add runs corp-user add"
run corp task create --as admin --title "Q1 report" --assignee ann
is "$rc:$(printf '%s' "$out" | jq -r '.task.title // .title')" "0:Q1 report" \
    "corp task create: the task's JSON, as corp-task prints it"
is "$(sql "SELECT title FROM tasks")" "Q1 report" "and the task is stored"
run corp task show 999 --as admin
is "$rc" 67 "a tool's exit status is corp's (67: no such task)"
like "$err" "^corp-task: " "the tool's messages carry its own name"
run corp task craete
is "$rc" 64 "a tool's usage error is 64"
like "$err" "^corp-task: unknown command 'craete' \\(did you mean 'create'\\?\\)" \
    "and the tool suggests the verb"

# A third-party corp-NAME on PATH plugs in; its arguments pass as they
# are (no shell), its name is corp-NAME.
mkdir -p "$T/plug"
cat >"$T/plug/corp-hello" <<'EOF'
#!/bin/sh
printf '%s|' "$0" "$@"; echo
exit 7
EOF
chmod 755 "$T/plug/corp-hello"
run env PATH="$T/plug:$PATH" corp hello 'a b' '$(touch x)' ';' ''
is "$rc:$out" "7:$T/plug/corp-hello|a b|\$(touch x)|;||" \
    "corp hello runs corp-hello from PATH with the arguments untouched"
[ ! -e x ] && pass "nothing was run through a shell" || fail "a shell ran"
# The tool gets the signal dispositions corp got (an ignored SIGPIPE
# would stay ignored in it).
printf '#!/bin/sh\nexec grep SigIgn /proc/self/status\n' >"$T/plug/corp-sig"
chmod 755 "$T/plug/corp-sig"
is "$(PATH="$T/plug:$PATH" corp sig)" "$("$T/plug/corp-sig")" \
    "the tool's ignored signals are its caller's, not corp's"

# Beside corp first: an installed tree runs its own tools, not PATH's.
mkdir -p "$T/inst/bin"
cp "$B/bin/corp" "$T/inst/bin/corp"
cat >"$T/inst/bin/corp-task" <<'EOF'
#!/bin/sh
echo "beside: $*"
EOF
chmod 755 "$T/inst/bin/corp-task"
run "$T/inst/bin/corp" task list
is "$rc:$out" "0:beside: list" "corp-task beside corp wins over PATH's"
chmod 644 "$T/inst/bin/corp-task"
run "$T/inst/bin/corp" task list
is "$rc" 0 "a corp-task beside corp that is not executable: PATH's runs"

# ---- unknown tools and options -------------------------------------------
run corp tsak
is "$rc:$err" "64:corp: 'tsak' is not a corp command (did you mean 'task'?); 'corp' lists them" \
    "an unknown tool: 64, with the nearest name"
run corp zzzzzz
is "$rc:$err" "64:corp: 'zzzzzz' is not a corp command; 'corp' lists them" \
    "nothing near: no suggestion"
cp "$T/plug/corp-hello" "$T/inst/bin/"
run "$T/inst/bin/corp" helo
is "$rc:$err" "64:corp: 'helo' is not a corp command (did you mean 'hello'?); 'corp' lists them" \
    "a corp-NAME program beside corp is a candidate too"
run corp ../bin/corp-task list
is "$rc" 64 "a path is not a tool name"
run corp --frob
is "$rc" 64 "an unknown option of corp: 64"
like "$err" "^corp: unknown option --frob" "named"
run corp ''
is "$rc" 64 "an empty tool name: 64"
run corp "$(printf 'x\033[31m')"
is "$rc:$err" "64:corp: not a corp command: a tool's name is lower-case letters, digits and '-'; 'corp' lists them" \
    "a name with a control character: 64, and the name is not echoed"

# ---- help --------------------------------------------------------------------
# An installed tree (make install, as tests/0855 does: copies only).
run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$CORP_SRC" install \
    PREFIX=/opt/corp DESTDIR="$T/root" B="$B" SANITIZE="${CORP_SANITIZE:-}"
is "$rc" 0 "make install PREFIX=/opt/corp DESTDIR=..."
P=$T/root/opt/corp
# A man(1) that shows what it was asked.
mkdir -p "$T/fakeman"
cat >"$T/fakeman/man" <<'EOF'
#!/bin/sh
printf 'man'; printf ' %s' "$@"; printf '\nLESS=%s\n' "${LESS-unset}"
EOF
chmod 755 "$T/fakeman/man"
run env -u LESS PATH="$T/fakeman:$PATH" "$P/bin/corp" help task
is "$rc:$out" "0:man -l $P/bin/../share/man/man1/corp-task.1
LESS=unset" "corp help task: man -l the page beside corp"
run env -u LESS PATH="$T/fakeman:$PATH" "$P/bin/corp" help task reject
is "$rc:$out" "0:man -l $P/bin/../share/man/man1/corp-task.1
LESS=+/^[[:space:]]+([a-z-]+,[[:space:]])*reject\\>" \
    "corp help task reject: less searches for the verb's entry"
run env LESS=-R PATH="$T/fakeman:$PATH" "$P/bin/corp" help deliver run
like "$out" "LESS=-R \\+/" "the user's LESS is kept"
run env PATH="$T/fakeman:$PATH" "$P/bin/corp" help json
like "$out" "^man -l .*/man5/corp-json.5" "corp help json: corp-json(5)"
run env PATH="$T/fakeman:$PATH" corp help task
is "$out" "man corp-task
LESS=${LESS-unset}" "no page beside corp (the build tree): man corp-task"
run env PATH="$T/fakeman:$PATH" "$P/bin/corp" help tsak
is "$rc" 64 "corp help of an unknown tool: 64"
like "$err" "did you mean 'task'" "with the nearest name"
run "$P/bin/corp" help task create extra
is "$rc" 64 "corp help takes at most TOOL VERB"
run "$P/bin/corp" help
is "$rc:$(printf '%s' "$out" | head -1)" "0:usage: corp TOOL [ARGS...]      run corp-TOOL ARGS..." \
    "corp help alone: the list"
# No man(1) at all: the page's path.
mkdir -p "$T/noman"
run env PATH="$T/noman" "$P/bin/corp" help task
is "$rc:$out" "0:$P/bin/../share/man/man1/corp-task.1" \
    "without man(1): the page's path on stdout"
like "$err" "man\\(1\\) is not installed" "and why on stderr"
run env PATH="$T/noman" "$B/bin/corp" help task
is "$rc" 67 "without man(1) nor a page beside corp: 67"
if command -v man >/dev/null 2>&1; then
	run env MANPAGER=cat PAGER=cat MANWIDTH=80 "$P/bin/corp" help task
	like "$out" "corp-task .* create tasks and move them" \
	    "with the real man(1): the installed page"
else
	skip "man(1) is not installed"
fi

# ---- completion ----------------------------------------------------------
C=$P/share/bash-completion/completions
for f in "$C/corp" "$C/corp-task" "$C/corp-pipeline" \
    "$P/share/zsh/site-functions/_corp"; do
	[ -e "$f" ] && pass "installed ${f#$P/}" || fail "installed ${f#$P/}"
done
# complete WORD...: the candidates bash offers for the last word, through
# the function "complete -p" names for the first word (bash-completion
# loads the file named after the command; so does this).
cat >"$T/comp.bash" <<'EOF'
cd "$T/cwd" || exit 1
try_complete() {
	local cmd=${1##*/} f
	[ -e "$C/$cmd" ] || { echo "no completion file for $cmd"; return; }
	. "$C/$cmd"
	f=$(builtin complete -p "$cmd" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
	[ -n "$f" ] || { echo "no complete -F for $cmd"; return; }
	COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
	COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
	"$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
EOF
mkdir -p "$T/cwd" && : >"$T/cwd/in.jsonl"
comp() {
	out=$(T=$T C=$C PATH="$P/bin:$T/plug:$PATH" bash -c '. "$T/comp.bash"; try_complete "$@"' \
	    complete "$@")
}
comp corp ta
is "$out" "task " "corp ta<TAB>: task"
comp corp task cr
is "$out" "create " "corp task cr<TAB>: create"
comp corp-task create --
is "$out" "--as --assignee --data-dir --db --description --draft --due --help --idempotency-key --now --period --quiet --template --title --unit --verbose --version " \
    "corp-task create --<TAB>: its options (both forms), the common ones"
comp corp task create --as boss --ti
is "$out" "--title " "after an option's value, the next option"
comp corp task create --as ''
is "$out" "admin ann " "--as: the database's logins (corp-user list, through jq)"
comp corp-task create --unit s
is "$out" "sales " "--unit: the database's units"
comp corp-task list --state W
is "$out" "WAITING_APPROVAL " "an option's words: the states"
comp corp settings notify set --channel ''
is "$out" "email exec file push telegram webhook " \
    "--channel: the channels (lib/names.c's list, through --cli-spec)"
comp corp settings config s
is "$out" "set " "a verb's sub-verbs: config set"
comp corp-user add ann --lang ''
is "$out" "en ru uk " "--lang: the shipped catalogs"
comp corp-org add sales --tz Europe/Berl
is "$out" "$( [ -e /usr/share/zoneinfo/Europe/Berlin ] && echo 'Europe/Berlin ')" \
    "--tz: the zones"
comp corp help deliver ''
is "$out" "ack cancel dlq explain pending prune requeue run stats unpause " \
    "corp help deliver <TAB>: its verbs (a tool without a table: from its usage)"
comp corp-send file --out i
is "$out" "in.jsonl " "--out FILE: file names"
comp corp-pipeline --mode ''
is "$out" "pipe run " "a contrib script's usage: --mode pipe|run"
comp corp-task --db x.db cr
is "$out" "create " "a common option and its value before the verb"
comp corp h
is "$out" "hello help " "corp h<TAB>: help and the corp-* programs on PATH"
# Every verb of every tool with a table is offered.
bad=
for t in "$B"/bin/corp-*; do
	spec=$("$t" --cli-spec 2>/dev/null) || continue
	want=$(printf '%s' "$spec" | jq -r '[.verbs[].name | split(" ")[0]] |
	    unique | join(" ")')
	[ "$want" = "" ] && continue
	comp "${t##*/}" ''
	got=$(printf '%s' "$out" | tr ' ' '\n' | sed '/^$/d' | sort -u |
	    tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ] || bad="$bad ${t##*/}($got != $want)"
done
is "$bad" "" "every tool's verbs, as its --cli-spec has them"

if command -v zsh >/dev/null 2>&1; then
	Z=$P/share/zsh/site-functions/_corp
	run zsh -n "$Z"
	is "$rc:$err" "0:" "zsh -n _corp: it parses"
	run zsh -fc 'source "$1"; print -r -- "$_corp_v[corp-settings config]|$_corp_a[corp-task --state]|$_corp_d[corp-task/create --as]"' \
	    zsh "$Z"
	is "$out" "get set unset list|words:DRAFT OPEN WAITING_APPROVAL DONE CANCELLED|the user who acts (or looks)" \
	    "zsh: the same tables, with the options' help"
	like "$(head -1 "$Z")" "^#compdef corp corp-analysis .*corp-user" \
	    "zsh: #compdef names corp and every tool"
	# The real thing: compinit with the installed file in fpath, TAB in
	# a pty (bounded: a completion that never shows ends in timeout).
	if zsh -fc 'zmodload zsh/zpty' 2>/dev/null; then
		run timeout 60 zsh -f "$CORP_SRC/tests/zsh-complete.zsh" \
		    "$P/share/zsh/site-functions" "$P/bin"
		is "$rc:$out" "0:ok: corp ta -> corp task 
ok: corp-task create --ti -> --title 
ok: corp-task list --state WA -> WAITING_APPROVAL 
ok: corp settings config un -> config unset " \
		    "zsh completes in a terminal: tools, options, words, sub-verbs"
	else
		skip "no zsh/zpty"
	fi
else
	skip "zsh is not installed"
fi

done_testing
