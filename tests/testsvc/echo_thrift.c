// SPDX-License-Identifier: GPL-2.0
/*
 * Raw Thrift message echo: each whole message is forwarded back to the
 * connection it came from, byte for byte (re-framed only if needed). A
 * Thrift client calling it gets its own CALL back, which is enough to show
 * that messages are delimited correctly in both transports.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": echo-thrift: " fmt

#include "testsvc.h"

static int kg_echo_thrift_process(struct kg_call *call)
{
	/* -EAGAIN: our own send buffer is full; the server retries later. */
	return kg_conn_forward(call->conn, call);
}

const struct kg_service kg_echo_thrift_service = {
	.name = "echo_thrift",
	.process = kg_echo_thrift_process,
};
