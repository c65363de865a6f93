// SPDX-License-Identifier: GPL-2.0
/*
 * User-space client for the calc service, built on the runtime's outbound
 * connections (kg_connect(), kg_conn_send_message(), replies given to the
 * client service's process()):
 *
 *   kgen-testclient --port P [--addr A] [--transport framed|buffered]
 *                   [--count N] [--sndbuf N]
 *
 * Pipelines N add(i, 3i - 1000) calls, sending more as replies free the
 * send buffer, checks every reply (value, order, seqid), then stops its
 * server with the connection still open. Prints "ok <N>" and exits 0.
 */
#include "testsvc.h"
#include "kgen/event.h"

#include <getopt.h>
#include <unistd.h>

struct kg_client_state {
	struct kg_server *srv;
	struct kg_conn *conn;
	u32 count, sent, replies, errors, full;
};

static struct kg_client_state kg_client;

static int kg_encode_add_args(struct kg_writer *w, const void *value)
{
	const s32 *ab = value;

	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_I32, 1);
	kg_write_i32(w, ab[0]);
	kg_write_field_end(w);
	kg_write_field_begin(w, KG_T_I32, 2);
	kg_write_i32(w, ab[1]);
	kg_write_field_end(w);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	return 0;
}

static void kg_client_send_more(void)
{
	struct kg_client_state *st = &kg_client;
	s32 ab[2];
	int err;

	while (st->sent < st->count) {
		ab[0] = (s32)st->sent;
		ab[1] = (s32)st->sent * 3 - 1000;
		err = kg_conn_send_message(st->conn, "add", KG_MSG_CALL, (s32)st->sent,
					   kg_encode_add_args, ab);
		if (err == -ENOBUFS) {
			st->full++;	/* more once replies come back */
			return;
		}
		if (err) {
			fprintf(stderr, "send: %d\n", err);
			st->errors++;
			kg_loop_stop(kg_server_loop(st->srv));
			return;
		}
		st->sent++;
	}
}

static int kg_client_process(struct kg_call *call)
{
	struct kg_client_state *st = &kg_client;
	s32 vals[3] = { 0 };
	bool present[3] = { false };
	s32 want = (s32)st->replies + (s32)st->replies * 3 - 1000;
	int err;

	err = kg_calc_read_i32s(call->in, vals, present, 3);
	if (err || call->msg_type != KG_MSG_REPLY || call->seqid != (s32)st->replies ||
	    !present[0] || vals[0] != want) {
		fprintf(stderr, "bad reply %u: err %d type %u seqid %d value %d\n",
			st->replies, err, call->msg_type, call->seqid, vals[0]);
		st->errors++;
	}
	st->replies++;
	if (st->replies == st->count || st->errors)
		kg_loop_stop(kg_server_loop(st->srv));
	else
		kg_client_send_more();
	return 0;
}

static const struct kg_service kg_client_service = {
	.name = "calc-client",
	.process = kg_client_process,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "transport", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "sndbuf", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct kg_client_state *st = &kg_client;
	struct kg_server_config cfg;
	struct kg_server_stats stats;
	const char *addr = "127.0.0.1";
	u16 port = 0;
	int opt, err;

	kg_server_config_defaults(&cfg);
	cfg.port = 0;
	st->count = 1000;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			cfg.addr = optarg;
			break;
		case 'p':
			port = strtoul(optarg, NULL, 0);
			break;
		case 't':
			cfg.transport = strcmp(optarg, "buffered") ? KG_TRANSPORT_FRAMED :
								     KG_TRANSPORT_BUFFERED;
			break;
		case 'n':
			st->count = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			cfg.sndbuf_max = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	alarm(60);	/* a hung client fails the test instead of blocking it */

	/* The server is only the loop and limits for the outbound connection. */
	err = kg_server_start(&st->srv, &cfg, &kg_client_service);
	if (!err)
		err = kg_connect(st->srv, addr, port, &kg_client_service, &st->conn);
	if (err) {
		fprintf(stderr, "start: %s\n", strerror(-err));
		kg_server_stop(st->srv);
		return 1;
	}
	kg_client_send_more();	/* queued until the connect completes */
	err = kg_server_run(st->srv);
	kg_server_stop_stats(st->srv, &stats);
	kg_conn_put(st->conn);	/* a shell by now: the stop closed it */
	if (err || st->errors || st->replies != st->count) {
		fprintf(stderr, "failed: err %d errors %u replies %u of %u\n", err, st->errors,
			st->replies, st->count);
		return 1;
	}
	printf("ok %u full %u\n", st->replies, st->full);
	return 0;
}
