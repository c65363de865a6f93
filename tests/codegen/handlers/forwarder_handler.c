// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarder handlers used by the tests (user space and kernel): msg() forwards
 * the received message, as is, to backend (key mod n); connect() opens the
 * backend connections; close_backends() closes them; stats() counts.
 */
#include "forwarder_module.h"

#define FWD_MAX_BACKENDS 16

struct fwd_state {
	struct mutex lock;		/* backends[], n */
	struct kg_conn *backends[FWD_MAX_BACKENDS];
	u32 n;
	s64 forwarded;
	s64 dropped;
};

int forwarder_handler_init(void **data)
{
	struct fwd_state *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	mutex_init(&st->lock);
	*data = st;
	return 0;
}

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

	/* The server is stopped and closed every connection: drop our references. */
	for (i = 0; i < st->n; i++)
		kg_conn_put(st->backends[i]);
	mutex_destroy(&st->lock);
	kfree(st);
}

int forwarder_forwarder_msg(struct kg_call *call, s32 key, struct kg_bytes payload)
{
	struct fwd_state *st = call->service_data;
	int ret = 0;

	mutex_lock(&st->lock);
	if (!st->n) {
		st->dropped++;
	} else {
		ret = kg_conn_forward(st->backends[(u32)key % st->n], call);
		if (!ret)
			st->forwarded++;
		else if (ret != -EAGAIN)
			st->dropped++;
	}
	mutex_unlock(&st->lock);
	return ret == -EAGAIN ? ret : 0;
}

int forwarder_forwarder_connect(struct kg_call *call,
				const struct kg_list_forwarder_backend *backends,
				struct forwarder_backend_error *err)
{
	struct fwd_state *st = call->service_data;
	char addr[64];
	u32 i;
	int ret = 0;

	if (backends->count > FWD_MAX_BACKENDS) {
		err->message.data = (const u8 *)"too many backends";
		err->message.len = sizeof("too many backends") - 1;
		err->isset.message = true;
		err->errno_value = E2BIG;
		err->isset.errno_value = true;
		return FORWARDER_FORWARDER_CONNECT_ERR;
	}
	mutex_lock(&st->lock);
	fwd_close_all(st);
	for (i = 0; i < backends->count; i++) {
		const struct forwarder_backend *b = &backends->elems[i];

		if (b->addr.len >= sizeof(addr) || b->port <= 0 || b->port > 65535) {
			ret = -EINVAL;
			break;
		}
		memcpy(addr, b->addr.data, b->addr.len);
		addr[b->addr.len] = '\0';
		ret = kg_connect(call->server, addr, (u16)b->port, NULL, &st->backends[st->n]);
		if (ret)
			break;
		st->n++;
	}
	if (ret)
		fwd_close_all(st);
	mutex_unlock(&st->lock);
	if (ret) {
		err->message.data = (const u8 *)"cannot connect";
		err->message.len = sizeof("cannot connect") - 1;
		err->isset.message = true;
		err->errno_value = -ret;
		err->isset.errno_value = true;
		return FORWARDER_FORWARDER_CONNECT_ERR;
	}
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
	result->forwarded = st->forwarded;
	result->isset.forwarded = true;
	result->dropped = st->dropped;
	result->isset.dropped = true;
	result->backends = (s32)st->n;
	result->isset.backends = true;
	mutex_unlock(&st->lock);
	return 0;
}
