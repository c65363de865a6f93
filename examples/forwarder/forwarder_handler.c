// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's Thrift forwarder (Slick, section 3.3) on the generated
 * Forwarder service: every oneway msg(key, payload) goes, as the whole
 * Thrift message it arrived as (never decoded past the key, never
 * re-encoded), to backend number (key mod N), N being the number of
 * backends given to connect(). Keys are taken modulo N mathematically
 * (a negative key -1 goes to backend N - 1).
 *
 * Concurrency: in the kernel, connections may be served in parallel (the
 * unbound and per-cpu workqueue modes). The backend table is protected by
 * a mutex that is held only to pick a backend and take a reference on it;
 * forwarding itself runs without the lock, so clients forward in parallel.
 * One client connection is served by one worker at a time, and a key always
 * maps to the same backend connection, so the messages of one client with
 * one key arrive in the order they were sent.
 *
 * Backpressure: when a backend's send buffer is full, kg_conn_forward()
 * returns -EAGAIN and so does msg(): the runtime keeps the message and
 * serves it again once the backend drained. Nothing is dropped unless the
 * backend connection is gone (or there are no backends): those messages are
 * counted in stats().dropped.
 */
#include "forwarder_module.h"
#include <kgen/netcompat.h>

/* Backends one connect() may give; more is answered with a BackendError. */
#define FWD_MAX_BACKENDS	64
/* The longest backend address: an IPv6 literal with a zone fits. */
#define FWD_ADDR_MAX		64

struct fwd_state {
	struct mutex lock;		/* backends[] and n */
	struct kg_conn *backends[FWD_MAX_BACKENDS];	/* references */
	u32 n;
	atomic64_t forwarded;
	atomic64_t dropped;
};

int forwarder_handler_init(void **data)
{
	struct fwd_state *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	mutex_init(&st->lock);
	atomic64_set(&st->forwarded, 0);
	atomic64_set(&st->dropped, 0);
	*data = st;
	return 0;
}

/* Close and release every backend connection; st->lock held. */
static void fwd_close_all(struct fwd_state *st)
{
	u32 i;

	for (i = 0; i < st->n; i++) {
		kg_conn_close(st->backends[i]);
		kg_conn_put(st->backends[i]);
		st->backends[i] = NULL;
	}
	st->n = 0;
}

void forwarder_handler_exit(void *data)
{
	struct fwd_state *st = data;
	u32 i;

	/* The server stopped and closed every connection: drop our references. */
	for (i = 0; i < st->n; i++)
		kg_conn_put(st->backends[i]);
	mutex_destroy(&st->lock);
	kfree(st);
}

/* The backend for @key with a reference taken, or NULL if there is none. */
static struct kg_conn *fwd_pick(struct fwd_state *st, s32 key)
{
	struct kg_conn *to = NULL;
	s64 idx;

	mutex_lock(&st->lock);
	if (st->n) {
		idx = (s64)key % st->n;
		if (idx < 0)
			idx += st->n;
		to = st->backends[idx];
		kg_conn_get(to);
	}
	mutex_unlock(&st->lock);
	return to;
}

int forwarder_forwarder_msg(struct kg_call *call, s32 key, struct kg_bytes payload)
{
	struct fwd_state *st = call->service_data;
	struct kg_conn *to = fwd_pick(st, key);
	int ret;

	if (!to) {
		atomic64_inc(&st->dropped);
		return 0;
	}
	ret = kg_conn_forward(to, call);
	kg_conn_put(to);
	if (ret == -EAGAIN)
		return ret;	/* served again once the backend drained */
	if (ret) {
		pr_warn_ratelimited("forwarder: backend for key %d: error %d, message dropped\n",
				    key, ret);
		atomic64_inc(&st->dropped);
	} else {
		atomic64_inc(&st->forwarded);
	}
	return 0;
}

static int fwd_error(struct forwarder_backend_error *err, const char *msg, int errno_value)
{
	err->message.data = (const u8 *)msg;
	err->message.len = strlen(msg);
	err->isset.message = true;
	err->errno_value = errno_value;
	err->isset.errno_value = true;
	return FORWARDER_FORWARDER_CONNECT_ERR;
}

int forwarder_forwarder_connect(struct kg_call *call,
				const struct kg_list_forwarder_backend *backends,
				struct forwarder_backend_error *err)
{
	struct fwd_state *st = call->service_data;
	char addr[FWD_ADDR_MAX];
	const char *why = NULL;
	u32 i;
	int ret = 0;

	if (backends->count > FWD_MAX_BACKENDS)
		return fwd_error(err, "too many backends", E2BIG);
	for (i = 0; i < backends->count; i++) {
		const struct forwarder_backend *b = &backends->elems[i];

		if (!b->addr.len || b->addr.len >= sizeof(addr) ||
		    memchr(b->addr.data, '\0', b->addr.len))
			return fwd_error(err, "bad backend address", EINVAL);
		if (b->port <= 0 || b->port > 65535)
			return fwd_error(err, "bad backend port", EINVAL);
	}

	mutex_lock(&st->lock);
	fwd_close_all(st);
	for (i = 0; i < backends->count; i++) {
		const struct forwarder_backend *b = &backends->elems[i];

		memcpy(addr, b->addr.data, b->addr.len);
		addr[b->addr.len] = '\0';
		ret = kg_connect(call->server, addr, (u16)b->port, NULL, &st->backends[st->n]);
		if (ret) {
			why = "cannot connect";
			break;
		}
		st->n++;
	}
	if (ret)
		fwd_close_all(st);
	mutex_unlock(&st->lock);
	if (ret)
		return fwd_error(err, why, -ret);
	return 0;
}

int forwarder_forwarder_close_backends(struct kg_call *call)
{
	struct fwd_state *st = call->service_data;

	mutex_lock(&st->lock);
	fwd_close_all(st);
	mutex_unlock(&st->lock);
	return 0;
}

int forwarder_forwarder_stats(struct kg_call *call, struct forwarder_forwarder_stats *result)
{
	struct fwd_state *st = call->service_data;

	mutex_lock(&st->lock);
	result->backends = (s32)st->n;
	mutex_unlock(&st->lock);
	result->isset.backends = true;
	result->forwarded = atomic64_read(&st->forwarded);
	result->isset.forwarded = true;
	result->dropped = atomic64_read(&st->dropped);
	result->isset.dropped = true;
	return 0;
}
