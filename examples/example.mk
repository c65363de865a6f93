# SPDX-License-Identifier: GPL-2.0
#
# Shared rules of the examples: each examples/<name>/GNUmakefile sets NAME
# (the module), IDL (the IDL file, in IDL_DIR: ../../idl by default),
# GENERATED (what thrift-kgen writes besides the build files) and
# optionally IDL_DEPS (files it includes), MODULE_NAME and KGEN_FLAGS,
# then includes this file.
#
#   make                  regenerate (when the IDL changed), build <name>.ko and <name>_user
#   make module           only <name>.ko (KDIR=<kernel build tree>, default: running kernel)
#   make user [SAN=1]     only <name>_user (SAN=1: ASan + UBSan)
#   make gen              only regenerate
#   make clean            remove build products and generated files (never the handler)
#
# The generated files sit beside the hand-written handler and are
# git-ignored. thrift-kgen writes its own Makefile; this file is called
# GNUmakefile so that GNU make picks it first, and it runs the generated
# Makefile (-f Makefile) for the actual builds.

KGEN ?= ../../.venv/bin/thrift-kgen
KDIR ?= /lib/modules/$(shell uname -r)/build
SAN ?=

STAMP := .kgen-stamp
# Regenerate when the generator, its templates or the runtime it copies change too.
KGEN_TREE := $(dir $(lastword $(MAKEFILE_LIST)))..
KGEN_SOURCES := $(shell find $(KGEN_TREE)/thrift_kgen \
	-path '*/build' -prune -o -type f \( -name '*.py' -o -name '*.j2' -o -name '*.[ch]' \
	-o -name 'Kbuild*' -o -name 'Makefile' \) -print 2>/dev/null)

.PHONY: all gen module user clean

all: module user

gen: $(STAMP)

# MODULE_NAME: a module name other than the IDL file's (thrift-kgen --module).
$(STAMP): $(IDL) $(IDL_DEPS) $(KGEN_SOURCES)
	$(KGEN) $(if $(MODULE_NAME),--module $(MODULE_NAME)) $(KGEN_FLAGS) $(IDL) -o .
	@touch $@

module: $(STAMP)
	$(MAKE) -f Makefile modules KDIR=$(KDIR)

user: $(STAMP)
	$(MAKE) -f Makefile user SAN=$(SAN)

clean:
	if [ -f Makefile ]; then $(MAKE) -f Makefile clean; fi
	rm -rf $(STAMP) Makefile Kbuild dkms.conf kgen.mk runtime $(GENERATED)
