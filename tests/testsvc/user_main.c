// SPDX-License-Identifier: GPL-2.0
/*
 * User-space server for the test services:
 *
 *   kgen-testsvc --service echo_raw|echo_thrift|calc|fwd_raw [--addr A] [--port P]
 *                [--transport framed|buffered] [--backends h:p,h:p,...]
 *                [--key] [--max-frame N] [--sndbuf N] [--max-conns N]
 *                [--budget N] [--mem-budget N] [--max-reply N] [--rcvbuf N]
 *                [--idle-timeout-ms N] [--message-timeout-ms N]
 *
 * Prints "listening <port>" on stdout once it accepts connections, runs
 * until SIGINT/SIGTERM, closes everything and prints the counters on stderr
 * (a one-line summary, then one "name value" line each).
 */
#include "testsvc.h"
#include "kgen/event.h"
#include "kgen/usermain.h"

#include <getopt.h>

static unsigned long kg_arg_num(const char *flag, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end) {
		fprintf(stderr, "%s: not a number: %s\n", flag, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "transport", required_argument, NULL, 't' },
		{ "backends", required_argument, NULL, 'b' },
		{ "key", no_argument, NULL, 'k' },
		{ "max-frame", required_argument, NULL, 'f' },
		{ "sndbuf", required_argument, NULL, 'w' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "budget", required_argument, NULL, 'B' },
		{ "mem-budget", required_argument, NULL, 'M' },
		{ "max-reply", required_argument, NULL, 'R' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "idle-timeout-ms", required_argument, NULL, 'I' },
		{ "message-timeout-ms", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *service = "echo_thrift", *backends = NULL;
	const struct kg_service *svc;
	struct kg_server_config cfg;
	struct kg_server_stats st;
	static struct kg_fwd_raw fwd;
	struct kg_server *srv;
	u8 mode = KG_FWD_ROUND_ROBIN;
	u32 rcvbuf = 0;
	int opt, err;

	kg_server_config_defaults(&cfg);
	cfg.port = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			service = optarg;
			break;
		case 'a':
			cfg.addr = optarg;
			break;
		case 'p':
			cfg.port = kg_arg_num("--port", optarg);
			break;
		case 't':
			if (!strcmp(optarg, "framed")) {
				cfg.transport = KG_TRANSPORT_FRAMED;
			} else if (!strcmp(optarg, "buffered")) {
				cfg.transport = KG_TRANSPORT_BUFFERED;
			} else {
				fprintf(stderr, "--transport: framed or buffered\n");
				return 2;
			}
			break;
		case 'b':
			backends = optarg;
			break;
		case 'k':
			mode = KG_FWD_BY_KEY;
			break;
		case 'f':
			cfg.limits.max_frame = kg_arg_num("--max-frame", optarg);
			cfg.limits.max_string = cfg.limits.max_frame;
			break;
		case 'w':
			cfg.sndbuf_max = kg_arg_num("--sndbuf", optarg);
			break;
		case 'c':
			cfg.max_conns = kg_arg_num("--max-conns", optarg);
			break;
		case 'B':
			cfg.budget = kg_arg_num("--budget", optarg);
			break;
		case 'M':
			cfg.mem_budget = kg_arg_num("--mem-budget", optarg);
			break;
		case 'R':
			cfg.max_reply = kg_arg_num("--max-reply", optarg);
			break;
		case 'r':
			rcvbuf = kg_arg_num("--rcvbuf", optarg);
			break;
		case 'I':
			cfg.idle_timeout_ms = kg_arg_num("--idle-timeout-ms", optarg);
			break;
		case 'T':
			cfg.message_timeout_ms = kg_arg_num("--message-timeout-ms", optarg);
			break;
		default:
			return 2;
		}
	}
	cfg.rcvbuf_max = rcvbuf ? rcvbuf : cfg.limits.max_frame + KG_FRAME_HEADER_LEN;
	if (!cfg.max_reply)
		cfg.max_reply = cfg.limits.max_frame + KG_FRAME_HEADER_LEN;

	if (!strcmp(service, "echo_raw")) {
		svc = &kg_echo_raw_service;
	} else if (!strcmp(service, "echo_thrift")) {
		svc = &kg_echo_thrift_service;
	} else if (!strcmp(service, "calc")) {
		svc = &kg_calc_service;
	} else if (!strcmp(service, "fwd_raw")) {
		kg_fwd_raw_init(&fwd, mode);
		svc = &fwd.service;
	} else {
		fprintf(stderr, "unknown service %s\n", service);
		return 2;
	}

	err = kg_server_start(&srv, &cfg, svc);
	if (err) {
		fprintf(stderr, "cannot start: %s\n", strerror(-err));
		return 1;
	}
	if (svc == &fwd.service && backends) {
		err = kg_fwd_raw_connect(&fwd, srv, backends);
		if (err) {
			fprintf(stderr, "backends: %s\n", strerror(-err));
			kg_server_stop(srv);
			kg_fwd_raw_exit(&fwd);
			return 1;
		}
	}
	printf("listening %u\n", kg_server_port(srv));
	fflush(stdout);

	err = kg_server_run(srv);
	kg_server_stop_stats(srv, &st);
	if (svc == &fwd.service) {
		fprintf(stderr, "forwarded %lld dropped %lld\n",
			(long long)atomic64_read(&fwd.forwarded),
			(long long)atomic64_read(&fwd.dropped));
		kg_fwd_raw_exit(&fwd);
	}
	fprintf(stderr,
		"stats accepted %llu refused %llu closed %llu messages %llu bad %llu appex %llu"
		" in %llu out %llu backpressure %llu"
		" mem_budget %llu mem_in_use %llu mem_peak %llu mem_pressure %llu"
		" refused_memory %llu closed_memory %llu closed_reply_too_large %llu\n",
		(unsigned long long)st.accepted, (unsigned long long)st.refused,
		(unsigned long long)st.closed, (unsigned long long)st.messages,
		(unsigned long long)st.bad_messages, (unsigned long long)st.app_exceptions,
		(unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
		(unsigned long long)st.backpressure, (unsigned long long)st.mem_budget,
		(unsigned long long)st.mem_in_use, (unsigned long long)st.mem_peak,
		(unsigned long long)st.mem_pressure, (unsigned long long)st.refused_memory,
		(unsigned long long)st.closed_memory,
		(unsigned long long)st.closed_reply_too_large);
	kg_server_stats_print(stderr, &st);
	return err ? 1 : 0;
}
