/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test services built only from the runtime (no generated code). The same
 * files run in the user-space server (user_main.c) and in a test kernel
 * module: they use only the event/bsock/tsock/server API.
 *
 *  - echo_raw:    the paper's echo (section 3.2): the client sends a 4-byte
 *                 big-endian buffer size, then bytes that are echoed back.
 *  - echo_thrift: every whole Thrift message is sent back as received
 *                 (framing is proven, nothing is decoded past the header).
 *  - fwd_raw:     every whole message goes to one of N backends, as received:
 *                 round robin per client connection, or by a key (the first
 *                 field of the arguments, an i32) modulo N.
 *  - calc:        add/ping/note decoded by hand, replies with kg_call_reply().
 */
#ifndef _KGEN_TESTSVC_H
#define _KGEN_TESTSVC_H

#include "kgen/server.h"
#include "kgen/netcompat.h"

#define KG_FWD_MAX_BACKENDS	64

extern const struct kg_service kg_echo_raw_service;
extern const struct kg_service kg_echo_thrift_service;
extern const struct kg_service kg_calc_service;

int kg_calc_read_i32s(struct kg_reader *r, s32 *vals, bool *present, int n);

enum kg_fwd_mode {
	KG_FWD_ROUND_ROBIN = 0,
	KG_FWD_BY_KEY = 1,
};

struct kg_fwd_raw {
	struct kg_service service;	/* process() forwards; data points here */
	struct kg_conn *backends[KG_FWD_MAX_BACKENDS];	/* references */
	u32 nbackends;
	u8 mode;			/* enum kg_fwd_mode */
	atomic64_t forwarded;
	atomic64_t dropped;		/* no backend, or it closed */
};

void kg_fwd_raw_init(struct kg_fwd_raw *fwd, u8 mode);
int kg_fwd_raw_connect(struct kg_fwd_raw *fwd, struct kg_server *srv, const char *backends);
void kg_fwd_raw_exit(struct kg_fwd_raw *fwd);

int kg_parse_host_port(const char *s, size_t len, char *host, size_t host_size, u16 *port);

#endif /* _KGEN_TESTSVC_H */
