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
 * unbound and per-cpu workqueue modes). The backend table changes only on
 * connect() and close_backends(), so it is read under RCU: msg() picks a
 * backend and takes a reference on it without a lock (a mutex per message
 * also meant a might-sleep check); the writers, serialized by a mutex,
 * publish a new table and drop the old one's references after a grace
 * period. Forwarding itself runs outside the read section, so
 * clients forward in parallel. One client connection is served by one
 * worker at a time, and a key always maps to the same backend connection
 * of a table, so the messages of one client with one key arrive in the
 * order they were sent.
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

/* The backends one connect() gave, immutable once published. */
struct fwd_table {
	struct rcu_head rcu;
	u32 n;				/* at least 1: no backends is no table */
	struct kg_conn *backends[];	/* references, dropped after a grace period */
};

struct fwd_state {
	struct mutex lock;		/* serializes the writers of table */
	struct fwd_table __rcu *table;
	atomic64_t forwarded;
	atomic64_t dropped;
};

int forwarder_handler_init(void **data)
{
	struct fwd_state *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	mutex_init(&st->lock);
	RCU_INIT_POINTER(st->table, NULL);
	atomic64_set(&st->forwarded, 0);
	atomic64_set(&st->dropped, 0);
	*data = st;
	return 0;
}

/* After a grace period no msg() can still take a reference from @head's table. */
static void fwd_table_free(struct rcu_head *head)
{
	struct fwd_table *t = container_of(head, struct fwd_table, rcu);
	u32 i;

	for (i = 0; i < t->n; i++)
		kg_conn_put(t->backends[i]);	/* any context: frees memory only */
	kfree(t);
}

/* Unpublish the table and close its backends; st->lock held. */
static void fwd_close_all(struct fwd_state *st)
{
	struct fwd_table *t = rcu_dereference_protected(st->table, lockdep_is_held(&st->lock));
	u32 i;

	if (!t)
		return;
	rcu_assign_pointer(st->table, NULL);
	for (i = 0; i < t->n; i++)
		kg_conn_close(t->backends[i]);
	call_rcu(&t->rcu, fwd_table_free);
}

void forwarder_handler_exit(void *data)
{
	struct fwd_state *st = data;
	struct fwd_table *t = rcu_dereference_protected(st->table, 1);

	/* The server stopped and closed every connection: drop our references. */
	if (t)
		call_rcu(&t->rcu, fwd_table_free);
	rcu_barrier();	/* every fwd_table_free() ran: the module may go */
	mutex_destroy(&st->lock);
	kfree(st);
}

/* The backend for @key with a reference taken, or NULL if there is none. */
static struct kg_conn *fwd_pick(struct fwd_state *st, s32 key)
{
	struct kg_conn *to = NULL;
	struct fwd_table *t;
	s64 idx;

	rcu_read_lock();
	t = rcu_dereference(st->table);
	if (t) {
		idx = (s64)key % t->n;
		if (idx < 0)
			idx += t->n;
		to = t->backends[idx];
		kg_conn_get(to);	/* the table's reference outlives the read section */
	}
	rcu_read_unlock();
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
	struct fwd_table *t = NULL;
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

	if (backends->count) {
		/* Bounded by FWD_MAX_BACKENDS; refused, not waited for, when short. */
		t = kzalloc(sizeof(*t) + backends->count * sizeof(t->backends[0]),
			    GFP_KERNEL | __GFP_NOWARN);
		if (!t)
			return fwd_error(err, "out of memory", ENOMEM);
	}
	mutex_lock(&st->lock);
	fwd_close_all(st);
	for (i = 0; t && i < backends->count; i++) {
		const struct forwarder_backend *b = &backends->elems[i];

		memcpy(addr, b->addr.data, b->addr.len);
		addr[b->addr.len] = '\0';
		ret = kg_connect(call->server, addr, (u16)b->port, NULL, &t->backends[t->n]);
		if (ret) {
			why = "cannot connect";
			break;
		}
		t->n++;
	}
	if (ret) {
		/* Never published: no reader saw it. */
		for (i = 0; i < t->n; i++) {
			kg_conn_close(t->backends[i]);
			kg_conn_put(t->backends[i]);
		}
		kfree(t);
		t = NULL;
	}
	rcu_assign_pointer(st->table, t);
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
	struct fwd_table *t;

	rcu_read_lock();
	t = rcu_dereference(st->table);
	result->backends = t ? (s32)t->n : 0;
	rcu_read_unlock();
	result->isset.backends = true;
	result->forwarded = atomic64_read(&st->forwarded);
	result->isset.forwarded = true;
	result->dropped = atomic64_read(&st->dropped);
	result->isset.dropped = true;
	return 0;
}
