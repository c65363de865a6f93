// SPDX-License-Identifier: GPL-2.0
/*
 * Raw message forwarder (the paper's section 3.3 benchmark without generated
 * code): each whole message goes to one backend as it was received, never
 * re-encoded. Round robin: the i-th message of a client connection goes to
 * backend i mod N. By key: the first field of the argument struct must be an
 * i32; the message goes to backend key mod N, so one key always reaches the
 * same backend, in order.
 *
 * A full backend stops the client connection (process() returns -EAGAIN and
 * the message is retried once the backend drains): nothing is dropped or
 * reordered for backpressure.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": fwd-raw: " fmt

#include "testsvc.h"
#include "kgen/event.h"		/* kg_addr_port() */

static int kg_fwd_key(struct kg_call *call, u32 *key)
{
	s16 id;
	u8 type;
	s32 v;
	int err;

	err = kg_read_struct_begin(call->in);
	if (!err)
		err = kg_read_field_begin(call->in, &type, &id);
	if (err)
		return err;
	if (type != KG_T_I32)
		return -EBADMSG;
	err = kg_read_i32(call->in, &v);
	if (err)
		return err;
	*key = v < 0 ? -(s64)v : v;
	return 0;
}

static int kg_fwd_process(struct kg_call *call)
{
	struct kg_fwd_raw *fwd = call->service_data;
	uintptr_t seq = (uintptr_t)kg_conn_user(call->conn);
	u32 key;
	int err;

	if (!fwd->nbackends) {
		atomic64_inc(&fwd->dropped);
		return kg_call_reply_app_exception(call, KG_APPEX_INTERNAL_ERROR,
						   "no backend");
	}
	if (fwd->mode == KG_FWD_BY_KEY) {
		err = kg_fwd_key(call, &key);
		if (err)
			return err;	/* the server answers PROTOCOL_ERROR */
	} else {
		key = (u32)seq;
	}
	err = kg_conn_forward(fwd->backends[key % fwd->nbackends], call);
	if (err == -EAGAIN)
		return err;		/* same message again once the backend drains */
	if (err) {
		pr_warn_ratelimited("backend %u: %d, message dropped\n",
				    key % fwd->nbackends, err);
		atomic64_inc(&fwd->dropped);
	} else {
		atomic64_inc(&fwd->forwarded);
	}
	kg_conn_set_user(call->conn, (void *)(seq + 1));
	return 0;
}

/**
 * kg_fwd_raw_init() - prepare a forwarder with no backends yet
 * @fwd: the forwarder; &fwd->service is what to give kg_server_start()
 * @mode: KG_FWD_ROUND_ROBIN or KG_FWD_BY_KEY
 */
void kg_fwd_raw_init(struct kg_fwd_raw *fwd, u8 mode)
{
	memset(fwd, 0, sizeof(*fwd));
	fwd->mode = mode;
	fwd->service.name = "fwd_raw";
	fwd->service.process = kg_fwd_process;
	fwd->service.data = fwd;
}

/**
 * kg_parse_host_port() - split "host:port" or "[v6]:port"
 * @s: the text (not necessarily NUL-terminated)
 * @len: its length
 * @host: receives the host, NUL-terminated
 * @host_size: room in @host
 * @port: receives the port
 *
 * Return: 0 or -EINVAL.
 */
int kg_parse_host_port(const char *s, size_t len, char *host, size_t host_size, u16 *port)
{
	size_t colon = len, hlen, i;
	const char *h = s;
	u32 p = 0;

	for (i = len; i > 0; i--) {
		if (s[i - 1] == ':') {
			colon = i - 1;
			break;
		}
	}
	if (colon == len || colon + 1 == len || len - colon > 6)
		return -EINVAL;
	for (i = colon + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		p = p * 10 + (s[i] - '0');
	}
	if (!p || p > U16_MAX)
		return -EINVAL;
	hlen = colon;
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (!hlen || hlen >= host_size)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = p;
	return 0;
}

/**
 * kg_fwd_raw_connect() - connect to the backends
 * @fwd: the forwarder
 * @srv: the server running it
 * @backends: "host:port,host:port,..." (IPv6 as [addr]:port)
 *
 * Return: 0, or a negative errno (connections made so far are kept).
 */
int kg_fwd_raw_connect(struct kg_fwd_raw *fwd, struct kg_server *srv, const char *backends)
{
	char where[KG_ADDR_PORT_SIZE];
	const char *p = backends;
	char host[64];
	size_t len;
	u16 port;
	int err;

	while (p && *p) {
		len = strcspn(p, ",");
		if (fwd->nbackends == KG_FWD_MAX_BACKENDS)
			return -E2BIG;
		err = kg_parse_host_port(p, len, host, sizeof(host), &port);
		if (err) {
			pr_err("bad backend '%.*s'\n", (int)len, p);
			return err;
		}
		err = kg_connect(srv, host, port, NULL, &fwd->backends[fwd->nbackends]);
		if (err) {
			pr_err("cannot connect to %s: %d\n", kg_addr_port(where, host, port), err);
			return err;
		}
		fwd->nbackends++;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/**
 * kg_fwd_raw_exit() - drop the backend references
 * @fwd: the forwarder (after kg_server_stop(), or before to close them)
 */
void kg_fwd_raw_exit(struct kg_fwd_raw *fwd)
{
	u32 i;

	for (i = 0; i < fwd->nbackends; i++) {
		kg_conn_put(fwd->backends[i]);
		fwd->backends[i] = NULL;
	}
	fwd->nbackends = 0;
}
