# tests/0930: drive zsh completion in a pty (zsh/zpty): type a line and
# TAB, read until the expected text shows; a missing one blocks, so the
# caller bounds it with timeout(1).
# usage: zsh -f tests/zsh-complete.zsh FPATHDIR BINDIR
zmodload zsh/zpty || exit 2
zpty z 'env TERM=dumb PS1="%% " zsh -f -i' || exit 2
zpty -w z "fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; PATH=$2:\$PATH; setopt nobeep; print READY-\$((6*7))"
zpty -r z out '*READY-42*' || exit 3
# One completion: type the line and TAB, read until the expected text.
t() {
	zpty -w -n z $'\x15'"$1"$'\t'
	if zpty -r z out "*$2*"; then print -r -- "ok: $1 -> $2"; else print -r -- "fail: $1"; fi
}
t 'corp ta' 'corp task '
t 'corp-task create --ti' '--title '
t 'corp-task list --state WA' 'WAITING_APPROVAL '
t 'corp settings config un' 'config unset '
zpty -d z
