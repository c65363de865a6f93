// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's echo service (section 3.2) in raw-bytes mode: the first four
 * bytes give the client's buffer size (big-endian); every byte after them is
 * echoed. The size only shapes the client's reads, so it is consumed and
 * otherwise ignored: the echo is of the byte stream, in whatever pieces
 * arrive, limited by the room in the send buffer (backpressure).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": echo-raw: " fmt

#include "testsvc.h"

/* kg_conn_user() is non-NULL once the size header was consumed. */
#define KG_ECHO_STARTED	((void *)1)

static int kg_echo_raw_bytes(struct kg_conn *c)
{
	const u8 *data;
	ssize_t avail = kg_conn_peek(c, &data);
	ssize_t n;

	if (!kg_conn_user(c)) {
		if (avail < 4)
			return 0;
		pr_debug("buffer size %u\n", kg_get_be32(data));
		kg_conn_discard(c, 4);
		kg_conn_set_user(c, KG_ECHO_STARTED);
		avail = kg_conn_peek(c, &data);
	}
	if (!avail)
		return 0;
	n = kg_conn_write(c, data, avail);
	if (n < 0)
		return n;
	kg_conn_discard(c, n);
	return 0;
}

const struct kg_service kg_echo_raw_service = {
	.name = "echo_raw",
	.on_bytes = kg_echo_raw_bytes,
};
