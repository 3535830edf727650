# corp -- one Makefile: lib/libcorp.a, then every cmd/corp-*.
#
#   make            build into build/ (SANITIZE=1: build-san/, ASan+UBSan)
#   make check      deps, build, every test, mandoc -Tlint
#   make check-pg   deps, build, the shell tests against a throw-away PostgreSQL
#   make demo       deps, build, run contrib/demo
#   make install    PREFIX=/usr/local DESTDIR= (any PREFIX: the programs
#                   read the catalogs in ../share/corp beside them)
#   make deb        the Debian package, ../corp_VERSION_ARCH.deb (debian/)
#   make check-deb  build it, install it with dpkg, run corp from it, purge
#   make deps       install missing Debian packages (apt-get)
#   make fuzz       libFuzzer, FUZZ_SECONDS (60) per target (clang, build-fuzz/)
#   make torture    the fault and hostile-input tests with big settings

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
# Shell completion (bash-completion's and zsh's directories).
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
# Compiled in only as the fallback: a program reads BINDIR/../share/corp
# when it exists (lib/config.c), so make; make install PREFIX=/usr works
# without a rebuild.  A SHAREDIR elsewhere must be given to the build.
SHAREDIR ?= $(PREFIX)/share/corp
DESTDIR	?=
VERSION	 = 0.1.0

# libpq: its header only.  lib/pg.c dlopen()s libpq.so.5 at the first
# PostgreSQL use, so that no program carries its ~22 libraries on
# SQLite (HACKING, LAYOUT).
PKGS	 = sqlite3 libcurl jansson libbsd-overlay libmd libcrypto
CC	?= cc
WARN	 = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wvla -Werror
ifeq ($(SANITIZE),1)
B	?= build-san
OPT	 = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDSAN	 = -fsanitize=address,undefined
else
B	?= build
# OpenSSF compiler hardening for release builds; sanitizers go without
# FORTIFY.
OPT	 = -O2 -g -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	   -fstack-clash-protection -fPIE
LDSAN	 = -pie -Wl,-z,relro,-z,now
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libpq 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS	?= $(OPT)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(PKG_CFLAGS) \
	   -iquote lib -iquote cmd -iquote $(B)/gen -DCORP_VERSION='"$(VERSION)"' \
	   -DCORP_SHARE_DIR='"$(SHAREDIR)"' -MMD -MP
ALL_LDFLAGS = -Wl,--as-needed $(LDSAN) $(LDFLAGS)
LIBS	 = $(PKG_LIBS) -ldl -lm
# libwebsockets (HTTP and WebSocket) goes into corp-api alone, and libssl
# with it: lib/apitls.c installs the TLS certificate and key from memory.
LWS_LIBS := $(shell pkg-config --libs libwebsockets libssl 2>/dev/null)
$(B)/bin/corp-api $(B)/test/bin/corp-api: LIBS += $(LWS_LIBS)

LIB_SRC	 = $(wildcard lib/*.c)
LIB_OBJ	 = $(LIB_SRC:lib/%.c=$(B)/lib/%.o) $(B)/gen/sql_gen.o
# cmd/cli*.c: what the programs share (cli.c, clitab.c, ...), an archive
# so that a program links only the members it references: a helper that
# needs libcurl never drags it into a tool that does not.
CLI_SRC	 = $(wildcard cmd/cli*.c)
CLI_OBJ	 = $(CLI_SRC:cmd/%.c=$(B)/cmd/%.o)
CLI_LIB	 = $(B)/cmd/libcli.a
CMD_SRC	 = $(wildcard cmd/corp-*.c)
# The tools, then corp, the front door that runs them (cmd/corp.c).
TOOL_PROGS = $(CMD_SRC:cmd/%.c=$(B)/bin/%)
PROGS	 = $(TOOL_PROGS) $(B)/bin/corp
# The tools' objects are made by a chain of pattern rules; without this make
# deletes them after linking and every later make relinks every tool.
.SECONDARY: $(CMD_SRC:cmd/%.c=$(B)/cmd/%.o) $(B)/cmd/corp.o
# Shell completion, generated from the tools' --cli-spec (completion/gen);
# the contrib scripts are read from their usage.
CONTRIB_PROGS = contrib/corp-pipeline contrib/corp-telegram-bot
COMPLETION = $(B)/completion/corp.bash $(B)/completion/_corp
# The test builds of the programs: the same objects plus the fault VFS
# (tests/fault/faultvfs.c, CORP_TEST_VFS), which the shipped ones lack.
FAULT_VFS = $(B)/test/faultvfs.o
TPROGS	 = $(CMD_SRC:cmd/%.c=$(B)/test/bin/%)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS	 = $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
# Test machinery built by make check: the LD_PRELOAD fault interposer
# (never sanitized: it cannot run under ASan) and the fuzz targets as
# plain replay programs (with $(CC), sanitized when SANITIZE=1).
FAULT_SO = $(B)/test/corp-fault.so
FUZZ_SRC = $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_NAMES = $(FUZZ_SRC:tests/fuzz/fuzz-%.c=%)
REPLAYS	 = $(FUZZ_NAMES:%=$(B)/test/replay-%)
# Test drivers: tests/tools/NAME.c -> $(B)/tools/NAME, lib/ on the command
# line for shell tests that reach a module no corp tool exposes yet.
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOLS	 = $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
SQL	 = $(sort $(wildcard lib/sql/*.sql))
MANS	 = $(wildcard man/*.[1-9])
TESTS	 = $(sort $(wildcard tests/[0-9]*.t))
DEBS	 = build-essential clang libclang-rt-14-dev pkg-config libsqlite3-dev libcurl4-openssl-dev \
	   libjansson-dev libbsd-dev libmd-dev libssl-dev mandoc sqlite3 jq tzdata \
	   python3 perl openssl curl procps util-linux shellcheck \
	   postgresql libpq-dev python3-cryptography logrotate zsh libwebsockets-dev

.PHONY: FORCE all progs deb deps-deb deps-promtool deps-browser check-deb deps check check-unit check-shell check-pg check-pg-shell \
	share-modes lint-man demo install uninstall clean bench fuzz fuzz-build torture
.SUFFIXES:
# Recursive makes print no "Entering directory" lines: prove's summary is
# the last line of make check, as CI reads it.
MAKEFLAGS += --no-print-directory

all: $(PROGS) $(UNITS) $(COMPLETION)
# What make install ships (the Debian package builds only this).
progs: $(PROGS) $(COMPLETION)

# corp's list of tools: every man/corp-NAME.1 and its NAME line.
$(B)/gen/corp_tools.h: $(wildcard man/corp-*.1)
	@mkdir -p $(@D)
	awk 'FNR == 1 { n = FILENAME; sub(/.*\/corp-/, "", n); \
	    sub(/\.1$$/, "", n) } \
	    /^\.Nd / { d = substr($$0, 5); gsub(/\\/, "\\\\", d); \
	    gsub(/"/, "\\\"", d); printf "\t{ \"%s\", \"%s\" },\n", n, d; \
	    nextfile }' $(sort $^) > $@.tmp && mv $@.tmp $@
$(B)/cmd/corp.o: $(B)/gen/corp_tools.h

$(B)/completion/corp.bash: completion/gen $(TOOL_PROGS) $(CONTRIB_PROGS) \
    $(B)/gen/corp_tools.h
	@mkdir -p $(@D)
	python3 completion/gen bash $(B)/gen/corp_tools.h share/i18n \
	    $(filter-out %/corp-deliver-run,$(TOOL_PROGS)) $(CONTRIB_PROGS) \
	    > $@.tmp && mv $@.tmp $@
$(B)/completion/_corp: completion/gen $(TOOL_PROGS) $(CONTRIB_PROGS) \
    $(B)/gen/corp_tools.h
	@mkdir -p $(@D)
	python3 completion/gen zsh $(B)/gen/corp_tools.h share/i18n \
	    $(filter-out %/corp-deliver-run,$(TOOL_PROGS)) $(CONTRIB_PROGS) \
	    > $@.tmp && mv $@.tmp $@

# The list of migrations is a prerequisite too: a removed or renamed
# migration changes no file's time, only the list.
SQL_ALL	 = $(SQL) $(wildcard lib/sql/pg/*.sql)
$(B)/gen/sql.list: FORCE
	@mkdir -p $(@D)
	@echo '$(SQL_ALL)' | cmp -s - $@ || echo '$(SQL_ALL)' > $@

$(B)/gen/sql_gen.c: $(SQL_ALL) lib/sql/embed.sh $(B)/gen/sql.list
	@mkdir -p $(@D)
	sh lib/sql/embed.sh $(SQL) > $@.tmp && mv $@.tmp $@

$(B)/gen/sql_gen.o: $(B)/gen/sql_gen.c
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/lib/libcorp.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(CLI_LIB): $(CLI_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/bin/%: $(B)/cmd/%.o $(CLI_LIB) $(B)/lib/libcorp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(CLI_LIB) $(B)/lib/libcorp.a $(LIBS)

$(FAULT_VFS): tests/fault/faultvfs.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/test/bin/%: $(B)/cmd/%.o $(FAULT_VFS) $(CLI_LIB) $(B)/lib/libcorp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(FAULT_VFS) $(CLI_LIB) \
	    $(B)/lib/libcorp.a $(LIBS)

$(FAULT_SO): tests/fault/preload.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

$(B)/test/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c \
    tests/fuzz/fuzz.h $(B)/lib/libcorp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz $(ALL_LDFLAGS) -o $@ $< \
	    tests/fuzz/replay.c $(B)/lib/libcorp.a $(LIBS)

$(B)/tools/%: tests/tools/%.c $(B)/lib/libcorp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/lib/libcorp.a $(LIBS)

$(B)/unit/%: tests/unit/%.c tests/unit/tap.h $(CLI_LIB) $(B)/lib/libcorp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< \
	    $(CLI_LIB) $(B)/lib/libcorp.a $(LIBS)

# Install what the build and the tests need, only when something is
# missing (apt-get update only then too).
deps:
	@missing=$$(for p in $(DEBS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing:" $$missing; \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@$(MAKE) --no-print-directory deps-promtool
	@$(MAKE) --no-print-directory deps-browser

# promtool, for tests/0270 (check metrics, check rules, test rules on
# contrib/prometheus).  Debian ships it only in the prometheus package,
# with the server and its service: the binary alone is taken out of the
# package (apt-get download, dpkg-deb -x) into build/tools; nothing is
# installed, no daemon started.  Not fetched (offline): 0270 skips,
# saying why.
PROMTOOL = build/tools/promtool
deps-promtool:
	@command -v promtool >/dev/null || [ -x $(PROMTOOL) ] || { \
	    d=$$(mktemp -d) && \
	    (cd "$$d" && apt-get download prometheus >/dev/null 2>&1) && \
	    dpkg-deb -x "$$d"/prometheus_*.deb "$$d/x" && \
	    mkdir -p build/tools && \
	    install -m 755 "$$d/x/usr/bin/promtool" $(PROMTOOL); \
	    rc=$$?; rm -rf "$$d"; [ $$rc = 0 ] && \
	    echo "make deps: promtool in $(PROMTOOL)" || \
	    echo "make deps: promtool not fetched (tests/0270 skips it)"; }

# tests/0955's browser: Debian's chromium, the one package whose
# failure to install does not stop make deps (a port without it: 0955
# then reports a skip naming the reason).  Its driver: playwright-core,
# pinned by tests/browser's package-lock.json, into
# tests/browser/node_modules (not in git); npm ci only when what is
# there is not the locked version, so a second make deps stays offline.
# node and npm come from nodejs (Debian's npm only when none is on PATH).
BROWSER_LOCK = tests/browser/package-lock.json
deps-browser:
	@dpkg-query -W -f='$${Status}\n' chromium 2>/dev/null | \
	    grep -q 'install ok installed' || { \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    echo "make deps: installing: chromium"; \
	    $$SUDO apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends chromium >/dev/null || \
	    echo "make deps: chromium cannot be installed; tests/0955 will skip"; }
	@command -v npm >/dev/null 2>&1 || { \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    echo "make deps: installing: nodejs npm"; \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends nodejs npm >/dev/null || exit 1; }
	@want=$$(jq -r '.packages["node_modules/playwright-core"].version' \
	    $(BROWSER_LOCK)); \
	have=$$(jq -r .version \
	    tests/browser/node_modules/playwright-core/package.json \
	    2>/dev/null); \
	if [ "$$want" != "$$have" ]; then \
	    echo "make deps: npm ci in tests/browser (playwright-core $$want)"; \
	    (cd tests/browser && npm ci --prefer-offline --no-audit \
	        --no-fund --ignore-scripts >/dev/null) || exit 1; \
	fi

# The Debian package (debian/): dpkg-buildpackage writes
# ../corp_$(VERSION)_ARCH.deb beside the tree, as it always does.  Its
# tools are installed only here, only when missing.
DEB_DEBS = debhelper dpkg-dev fakeroot
deps-deb:
	@$(MAKE) deps DEBS="$(DEB_DEBS)"

deb: deps deps-deb
	dpkg-buildpackage -us -uc -b

# Build the package from a copy of the tree, install it with dpkg, run
# corp from the installed files, purge it (tests/0936; minutes, so not
# part of make check).
check-deb: deps deps-deb
	$(MAKE) all
	$(TEST_ENV) CORP_TEST_DEB=1 prove $(PROVE_FLAGS) tests/0936-deb.t \
	    < /dev/null

check: deps
	$(MAKE) all
	$(MAKE) lint-man
	$(MAKE) check-unit check-shell

lint-man:
	@for m in $(MANS); do mandoc -Tlint -W warning $$m || exit 1; done
	@echo "mandoc -Tlint: $(words $(MANS)) pages clean"

check-unit: $(UNITS) $(REPLAYS)
	@for u in $(UNITS); do $$u || exit 1; done
	@for f in $(FUZZ_NAMES); do \
	    $(B)/test/replay-$$f tests/fuzz/$$f/* || exit 1; done

# The fresh binaries first on PATH, stdin from /dev/null (mblaze).
# PROVE_FLAGS=--timer: each file's wall and CPU time (HACKING).
PROVE_FLAGS ?=
TEST_ENV = PATH="$(CURDIR)/$(B)/bin:$$PATH" CORP_SRC="$(CURDIR)" \
	CORP_BUILD="$(CURDIR)/$(B)" CORP_SANITIZE="$(SANITIZE)" \
	CORP_SHARE_DIR="$(CURDIR)/share"
# The shipped catalogs are configuration (corp.7 SECURITY): corp refuses
# a share dir, i18n/ or catalog that group or others may write.  A
# checkout made under umask 002 has them group-writable, so whatever
# reads them from the tree (CORP_SHARE_DIR=share) takes those bits off
# first.
share-modes:
	@chmod -R go-w share
check-shell: $(PROGS) $(TPROGS) $(FAULT_SO) $(TOOLS) share-modes
	$(TEST_ENV) prove -j2 $(PROVE_FLAGS) $(TESTS) < /dev/null

# The same shell tests against PostgreSQL: a throw-away cluster
# (tests/pg/cluster) listening on a Unix socket only, whose directory
# CORP_TEST_PG names; each test creates and drops its own database
# (tests/lib.sh); a test tagged sqlite-only reports a skip.  The cluster
# is stopped however prove ends (a watchdog stops it should make be
# killed) and prove's status and summary end the run.  CORP_PG_KEEP=1
# keeps the cluster and the tests' databases; CORP_TEST_PG=SOCKDIR uses
# a running cluster and leaves it running.
check-pg: deps
	$(MAKE) all
	$(MAKE) check-pg-shell

check-pg-shell: $(PROGS) $(TPROGS) $(FAULT_SO) $(TOOLS) share-modes
	@if [ -n "$${CORP_TEST_PG:-}" ]; then \
	    sock=$$CORP_TEST_PG; \
	elif [ "$${CORP_PG_KEEP:-}" = 1 ]; then \
	    sock=$$(sh tests/pg/cluster start) || exit 1; \
	    echo "check-pg: the cluster stays up (CORP_PG_KEEP=1):" \
	        "CORP_TEST_PG=$$sock; sh tests/pg/cluster stop $$sock"; \
	else \
	    sock=$$(sh tests/pg/cluster start --watch $$$$) || exit 1; \
	    trap 'sh tests/pg/cluster stop "$$sock"' EXIT; \
	    trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; \
	fi; \
	$(TEST_ENV) CORP_TEST_PG="$$sock" prove -j2 $(PROVE_FLAGS) $(TESTS) < /dev/null

# libFuzzer: every tests/fuzz/fuzz-NAME.c for FUZZ_SECONDS each, built
# with clang into build-fuzz/ (ASan + UBSan), seeded from and adding to
# tests/fuzz/NAME/ only through build-fuzz/fuzz/new-NAME/ (copy a
# crashing input into tests/fuzz/NAME/ once fixed).
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	   -fno-omit-frame-pointer -fno-sanitize-recover=undefined
fuzz: deps
	$(MAKE) B=build-fuzz CC=clang SANITIZE= CFLAGS="$(FUZZ_CFLAGS)" \
	    LDSAN= fuzz-build
	@for f in $(FUZZ_NAMES); do \
	    mkdir -p build-fuzz/fuzz/new-$$f; \
	    echo "make fuzz: $$f for $(FUZZ_SECONDS)s"; \
	    build-fuzz/fuzz/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) \
	        -max_len=65536 -timeout=10 -print_final_stats=1 \
	        -artifact_prefix=build-fuzz/fuzz/crash-$$f- \
	        build-fuzz/fuzz/new-$$f tests/fuzz/$$f \
	        >build-fuzz/fuzz/log-$$f 2>&1; rc=$$?; \
	    grep -E '^stat::(number_of_executed_units|new_units_added)' \
	        build-fuzz/fuzz/log-$$f; \
	    if [ $$rc != 0 ]; then grep -E '^(==|SUMMARY)' \
	        build-fuzz/fuzz/log-$$f | head -5; echo "make fuzz: $$f" \
	        "failed; see build-fuzz/fuzz/log-$$f and crash-$$f-*"; \
	        exit 1; fi; \
	done

fuzz-build: $(FUZZ_NAMES:%=$(B)/fuzz/fuzz-%)

$(B)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(B)/lib/libcorp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(B)/lib/libcorp.a $(LIBS)

# The fault and hostile-input tests with the big settings (minutes;
# not in CI).
torture: deps
	$(MAKE) all $(TPROGS) $(FAULT_SO) $(REPLAYS) share-modes
	$(TEST_ENV) FAULT_TASKS=40 FAULT_LIMIT=60 HOSTILE_MB=16 \
	CRASH_KILLS=100 CONTENTION_PROCS=16 CONTENTION_SECONDS=30 \
	    prove -j2 tests/08[0-9][0-9]-*.t < /dev/null

demo: deps
	$(MAKE) all share-modes
	PATH="$(CURDIR)/$(B)/bin:$$PATH" CORP_SRC="$(CURDIR)" \
	CORP_SHARE_DIR="$(CURDIR)/share" sh contrib/demo

bench: deps
	$(MAKE) all
	PATH="$(CURDIR)/$(B)/bin:$$PATH" CORP_SRC="$(CURDIR)" \
	    sh tests/bench/run

install: $(PROGS) $(COMPLETION)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(SHAREDIR)/i18n $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)
	install -m 755 contrib/corp-pipeline contrib/corp-telegram-bot \
	    $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
	    s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	if [ -d share/i18n ]; then install -m 644 share/i18n/*.txt \
	    $(DESTDIR)$(SHAREDIR)/i18n; fi
	install -d $(DESTDIR)$(SHAREDIR)/www
	install -m 644 share/www/*.html share/www/*.css share/www/*.js \
	    $(DESTDIR)$(SHAREDIR)/www
	install -m 644 share/openapi.json $(DESTDIR)$(SHAREDIR)
	install -m 644 $(B)/completion/corp.bash $(DESTDIR)$(BASHCOMPDIR)/corp
	install -m 644 $(B)/completion/_corp $(DESTDIR)$(ZSHCOMPDIR)/_corp
	# bash-completion loads a command's file by its name: one per tool.
	for p in $(filter-out %/corp-deliver-run,$(TOOL_PROGS)) \
	    $(CONTRIB_PROGS); do \
	    ln -sf corp $(DESTDIR)$(BASHCOMPDIR)/$${p##*/}; done

uninstall:
	for p in $(PROGS) corp-pipeline corp-telegram-bot; do \
	    rm -f $(DESTDIR)$(BINDIR)/$${p##*/}; done
	for m in $(MANS); do \
	    s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	rm -rf $(DESTDIR)$(SHAREDIR)
	for p in corp $(TOOL_PROGS) $(CONTRIB_PROGS); do \
	    rm -f $(DESTDIR)$(BASHCOMPDIR)/$${p##*/}; done
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_corp

clean:
	rm -rf build build-san build-fuzz build-deb

-include $(wildcard $(B)/lib/*.d $(B)/cmd/*.d $(B)/unit/*.d $(B)/gen/*.d \
    $(B)/tools/*.d)
