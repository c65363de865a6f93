// SPDX-License-Identifier: GPL-2.0
/*
 * The Slick paper's echo (section 3.2), twice:
 *
 *  - as the Thrift service Echo (idl/echo.thrift) on the module's port:
 *    echo(), echo_string() and echo_list() return their argument, ping() is
 *    oneway and counted, pings() returns the count;
 *
 *  - as the raw byte echo the paper measured, on a second port (module
 *    parameter raw_port, default 9091; in user space the environment variable
 *    ECHO_RAW_PORT): the client sends its buffer size as 4 big-endian bytes,
 *    then every byte it sends comes back. It is a second kg_server in raw
 *    byte mode (kg_service.on_bytes), started by the init hook. raw_port=-1
 *    turns it off; 0 picks a free port (logged).
 *
 * In user space each kg_server has its own event loop and the generated
 * main() runs only the Thrift server's, so the raw server's loop runs in a
 * thread of its own (the two servers share no state).
 */
#include "echo_module.h"
#include <kgen/netcompat.h>
#include <kgen/event.h>

static int raw_port = 9091;
static char *raw_addr = "127.0.0.1";

#ifdef __KERNEL__
#include <linux/moduleparam.h>

module_param(raw_port, int, 0444);
MODULE_PARM_DESC(raw_port, "TCP port of the raw byte echo (default 9091; 0: any free port; -1: off)");
module_param(raw_addr, charp, 0444);
MODULE_PARM_DESC(raw_addr, "Address of the raw byte echo (default 127.0.0.1)");
#else
#include <pthread.h>
#include <signal.h>
#endif

struct echo_state {
	struct kg_server *raw;		/* the raw byte echo, or NULL */
	atomic64_t pings;
#ifndef __KERNEL__
	pthread_t raw_thread;		/* runs raw's event loop */
#endif
};

/* ---- the raw byte echo ---- */

/* kg_conn_user() of a raw connection once its 4-byte size header was read. */
#define ECHO_RAW_STARTED	((void *)1)

static int echo_raw_bytes(struct kg_conn *c)
{
	const u8 *data;
	ssize_t avail, n;

	avail = kg_conn_peek(c, &data);
	if (avail < 0)
		return avail;
	if (!kg_conn_user(c)) {
		if (avail < 4)
			return 0;
		/* The client's buffer size: it only shapes the client's reads. */
		kg_conn_discard(c, 4);
		kg_conn_set_user(c, ECHO_RAW_STARTED);
		avail = kg_conn_peek(c, &data);
		if (avail <= 0)
			return avail;
	}
	if (!avail)
		return 0;
	/*
	 * As much as the send buffer takes; the rest stays in the receive buffer
	 * and is offered again once the send buffer drained (backpressure).
	 */
	n = kg_conn_write(c, data, avail);
	if (n < 0)
		return n;
	kg_conn_discard(c, n);
	return 0;
}

static const struct kg_service echo_raw_service = {
	.name = "echo_raw",
	.on_bytes = echo_raw_bytes,
};

#ifndef __KERNEL__
static void *echo_raw_loop(void *arg)
{
	struct kg_server *srv = arg;

	kg_loop_run(kg_server_loop(srv));
	return NULL;
}

/* Settings from the environment: the generated main() owns the flags. */
static int echo_raw_env(void)
{
	const char *p = getenv("ECHO_RAW_PORT");
	const char *a = getenv("ECHO_RAW_ADDR");
	char *end;
	long v;

	if (a && *a)
		raw_addr = (char *)a;
	if (!p || !*p)
		return 0;
	v = strtol(p, &end, 10);
	if (*end || v < -1 || v > 65535) {
		fprintf(stderr, "ECHO_RAW_PORT: not a port: %s\n", p);
		return -EINVAL;
	}
	raw_port = (int)v;
	return 0;
}
#endif

static int echo_raw_start(struct echo_state *st)
{
	char where[KG_ADDR_PORT_SIZE];
	struct kg_server_config cfg;
	int ret;

	if (raw_port < 0)
		return 0;
	if (raw_port > 65535) {
		pr_err("raw_port %d out of range\n", raw_port);
		return -EINVAL;
	}
	kg_server_config_defaults(&cfg);
	cfg.addr = raw_addr;
	cfg.port = (u16)raw_port;
	ret = kg_server_start(&st->raw, &cfg, &echo_raw_service);
	if (ret) {
		pr_err("raw echo: cannot serve on %s: %d\n",
		       kg_addr_port(where, raw_addr, raw_port), ret);
		return ret;
	}
#ifdef __KERNEL__
	pr_info("raw echo on %s\n", kg_addr_port(where, raw_addr, kg_server_port(st->raw)));
#else
	{
		sigset_t all, old;

		/* Signals go to the main thread, which stops the Thrift server. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		ret = -pthread_create(&st->raw_thread, NULL, echo_raw_loop, st->raw);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (ret) {
			kg_server_stop(st->raw);
			st->raw = NULL;
			return ret;
		}
	}
	printf("raw echo on %s\n", kg_addr_port(where, raw_addr, kg_server_port(st->raw)));
	fflush(stdout);
#endif
	return 0;
}

static void echo_raw_stop(struct echo_state *st)
{
	if (!st->raw)
		return;
#ifndef __KERNEL__
	kg_loop_stop(kg_server_loop(st->raw));
	pthread_join(st->raw_thread, NULL);
#endif
	kg_server_stop(st->raw);
	st->raw = NULL;
}

/* ---- hooks ---- */

int echo_handler_init(void **data)
{
	struct echo_state *st;
	int ret;

#ifndef __KERNEL__
	ret = echo_raw_env();
	if (ret)
		return ret;
#endif
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	atomic64_set(&st->pings, 0);
	ret = echo_raw_start(st);
	if (ret) {
		kfree(st);
		return ret;
	}
	*data = st;
	return 0;
}

void echo_handler_exit(void *data)
{
	struct echo_state *st = data;

	echo_raw_stop(st);
	kfree(st);
}

/* ---- service Echo ---- */

/* A copy of @in in the call's arena: it lives until the reply is written. */
static int echo_copy(struct kg_call *call, struct kg_bytes in, struct kg_bytes *out)
{
	u8 *p;

	out->len = in.len;
	out->data = (const u8 *)"";
	if (!in.len)
		return 0;
	p = kg_read_alloc(call->in, in.len, 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, in.data, in.len);
	out->data = p;
	return 0;
}

int echo_echo_echo(struct kg_call *call, struct kg_bytes data, struct kg_bytes *result)
{
	return echo_copy(call, data, result);
}

int echo_echo_echo_string(struct kg_call *call, struct kg_bytes s, struct kg_bytes *result)
{
	return echo_copy(call, s, result);
}

int echo_echo_echo_list(struct kg_call *call, const struct kg_list_i32 *values,
			struct kg_list_i32 *result)
{
	s32 *p = NULL;

	if (values->count) {
		p = kg_read_alloc(call->in, values->count, sizeof(*p));
		if (!p)
			return -ENOMEM;
		memcpy(p, values->elems, values->count * sizeof(*p));
	}
	result->count = values->count;
	result->elems = p;
	return 0;
}

int echo_echo_ping(struct kg_call *call, s64 seq)
{
	struct echo_state *st = call->service_data;

	atomic64_inc(&st->pings);
	return 0;
}

int echo_echo_pings(struct kg_call *call, s64 *result)
{
	struct echo_state *st = call->service_data;

	*result = atomic64_read(&st->pings);
	return 0;
}
