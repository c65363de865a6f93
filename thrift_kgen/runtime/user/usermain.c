// SPDX-License-Identifier: GPL-2.0
/*
 * User space only: the main() of a generated server, so generated code
 * carries no option parsing of its own. The flags mirror the module
 * parameters of the generated glue (thrift_kgen/codegen/glue.py, LIMITS).
 */
#include <getopt.h>

#include "kgen/usermain.h"
#include "kgen/event.h"		/* kg_addr_port() */

/* A limit flag: N, 0 keeping the runtime's default; a u32 in the config. */
struct kg_limit_flag {
	const char *flag;
	size_t offset;
	const char *help;
};

#define KG_CFG(field)	offsetof(struct kg_server_config, field)

/* The timeouts: 0 turns them off instead of keeping the default. */
static bool kg_zero_disables(const struct kg_limit_flag *l)
{
	return l->offset == KG_CFG(idle_timeout_ms) || l->offset == KG_CFG(message_timeout_ms);
}

static const struct kg_limit_flag kg_limit_flags[] = {
	{ "max-conns", KG_CFG(max_conns),
	  "connections served at once; more are accepted and closed" },
	{ "max-frame", KG_CFG(limits.max_frame), "bytes in one message" },
	{ "max-string", KG_CFG(limits.max_string), "bytes in one string or binary" },
	{ "max-container", KG_CFG(limits.max_container), "elements in one list, set or map" },
	{ "max-depth", KG_CFG(limits.max_depth),
	  "nesting of structs and containers (at most 64)" },
	{ "arena-size", KG_CFG(limits.arena_size), "bytes of decoded data per message" },
	{ "rcvbuf-max", KG_CFG(rcvbuf_max), "bytes buffered for reading per connection" },
	{ "sndbuf-max", KG_CFG(sndbuf_max),
	  "bytes queued for sending per connection before it stops reading" },
	{ "max-reply", KG_CFG(max_reply),
	  "largest reply; a larger one closes the connection" },
	{ "mem-budget", KG_CFG(mem_budget),
	  "bytes of buffers and arenas for all connections together" },
	{ "budget", KG_CFG(budget), "messages served per connection per turn, for fairness" },
	{ "idle-timeout-ms", KG_CFG(idle_timeout_ms),
	  "close a connection that sends and takes nothing this long (default 300000)" },
	{ "message-timeout-ms", KG_CFG(message_timeout_ms),
	  "close a connection whose message stays incomplete this long (default 30000)" },
};

#define KG_NLIMITS	ARRAY_SIZE(kg_limit_flags)
#define KG_OPT_LIMIT	256	/* getopt value of kg_limit_flags[0]; the others follow */

/* A flag taking one of two names: the default first. */
struct kg_choice {
	const char *name[2];
	u8 value[2];
};

static const struct kg_choice kg_transports = {
	{ "framed", "buffered" }, { KG_TRANSPORT_FRAMED, KG_TRANSPORT_BUFFERED },
};
static const struct kg_choice kg_protocols = {
	{ "binary", "compact" }, { KG_PROTO_BINARY, KG_PROTO_COMPACT },
};

static int kg_choice_arg(const char *what, const struct kg_choice *c, const char *arg, u8 *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c->name); i++) {
		if (!strcmp(arg, c->name[i])) {
			*out = c->value[i];
			return 0;
		}
	}
	fprintf(stderr, "unknown %s \"%s\" (%s or %s)\n", what, arg, c->name[0], c->name[1]);
	return -EINVAL;
}

static void kg_usage(FILE *f, const char *argv0, const struct kg_user_main *m)
{
	char flag[32];
	size_t i;

	fprintf(f,
		"usage: %s [options]\n"
		"Serve %s (%s) over Thrift.\n"
		"  --addr ADDR        address to listen on (default 127.0.0.1)\n"
		"  --port PORT        TCP port (default %u; 0 picks a free one)\n"
		"  --transport T      framed (default) or buffered\n"
		"  --protocol P       binary (default) or compact\n",
		argv0, m->service->name, m->source ? m->source : "?", m->default_port);
	for (i = 0; i < KG_NLIMITS; i++) {
		snprintf(flag, sizeof(flag), "--%s N", kg_limit_flags[i].flag);
		fprintf(f, "  %-18s %s (0: %s)\n", flag, kg_limit_flags[i].help,
			kg_zero_disables(&kg_limit_flags[i]) ? "never" : "default");
	}
	fprintf(f,
		"  --wq-mode N        accepted for symmetry with the module; ignored\n"
		"  --help             this text\n"
		"On exit (SIGINT, SIGTERM) the server's counters are printed on stderr.\n");
}

static int kg_uint_arg(const char *name, const char *arg, unsigned long max, u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || v > UINT_MAX || arg[0] == '-') {
		fprintf(stderr, "--%s: not a number: %s\n", name, arg);
		return -EINVAL;
	}
	if (v > max) {
		fprintf(stderr, "--%s: %lu out of range (at most %lu)\n", name, v, max);
		return -EINVAL;
	}
	*out = (u32)v;
	return 0;
}

/**
 * kg_server_config_from_args() - the server's settings from the command line
 * @cfg: filled: the runtime's defaults, @m->default_port, then the flags
 * @argc: main()'s
 * @argv: main()'s
 * @m: the service and defaults (for --help and the default port)
 *
 * Return: 0, KG_ARGS_HELP (--help printed on stdout) or -EINVAL (the
 * problem and the usage printed on stderr).
 */
int kg_server_config_from_args(struct kg_server_config *cfg, int argc, char **argv,
			       const struct kg_user_main *m)
{
	struct option opts[4 + KG_NLIMITS + 3] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "transport", required_argument, NULL, 't' },
		{ "protocol", required_argument, NULL, 'P' },
	};
	const char *argv0 = argc > 0 ? argv[0] : "server";
	u32 port = m->default_port, wq;
	size_t i, n = 4;
	int c;

	for (i = 0; i < KG_NLIMITS; i++)
		opts[n++] = (struct option){ kg_limit_flags[i].flag, required_argument, NULL,
					     KG_OPT_LIMIT + (int)i };
	opts[n++] = (struct option){ "wq-mode", required_argument, NULL, 'w' };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };

	kg_server_config_defaults(cfg);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			cfg->addr = optarg;
			break;
		case 'p':
			if (kg_uint_arg("port", optarg, 65535, &port))
				return -EINVAL;
			break;
		case 't':
			if (kg_choice_arg("transport", &kg_transports, optarg, &cfg->transport))
				return -EINVAL;
			break;
		case 'P':
			if (kg_choice_arg("protocol", &kg_protocols, optarg, &cfg->proto))
				return -EINVAL;
			break;
		case 'w':
			/* one event loop in user space: no workqueue to choose */
			if (kg_uint_arg("wq-mode", optarg, UINT_MAX, &wq))
				return -EINVAL;
			break;
		case 'h':
			kg_usage(stdout, argv0, m);
			return KG_ARGS_HELP;
		default:
			if (c >= KG_OPT_LIMIT && c < KG_OPT_LIMIT + (int)KG_NLIMITS) {
				const struct kg_limit_flag *l = &kg_limit_flags[c - KG_OPT_LIMIT];
				u32 v;

				if (kg_uint_arg(l->flag, optarg, UINT_MAX, &v))
					return -EINVAL;
				if (v || kg_zero_disables(l))
					*(u32 *)((char *)cfg + l->offset) = v;
				break;
			}
			kg_usage(stderr, argv0, m);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
		kg_usage(stderr, argv0, m);
		return -EINVAL;
	}
	cfg->port = (u16)port;
	return 0;
}

/**
 * kg_server_stats_print() - print a server's counters
 * @f: where to
 * @st: the counters (kg_server_stats() or kg_server_stop_stats())
 *
 * The same lines as /sys/kernel/debug/<module>/stats in the kernel.
 */
void kg_server_stats_print(FILE *f, const struct kg_server_stats *st)
{
	fprintf(f, "accepted %llu\n", (unsigned long long)st->accepted);
	fprintf(f, "refused %llu\n", (unsigned long long)st->refused);
	fprintf(f, "refused_max_conns %llu\n", (unsigned long long)st->refused_max_conns);
	fprintf(f, "live %llu\n", (unsigned long long)st->live);
	fprintf(f, "closed %llu\n", (unsigned long long)st->closed);
	fprintf(f, "closed_idle %llu\n", (unsigned long long)st->closed_idle);
	fprintf(f, "closed_message_timeout %llu\n", (unsigned long long)st->closed_message_timeout);
	fprintf(f, "closed_bad_input %llu\n", (unsigned long long)st->closed_bad_input);
	fprintf(f, "messages %llu\n", (unsigned long long)st->messages);
	fprintf(f, "bad_messages %llu\n", (unsigned long long)st->bad_messages);
	fprintf(f, "app_exceptions %llu\n", (unsigned long long)st->app_exceptions);
	fprintf(f, "bytes_in %llu\n", (unsigned long long)st->bytes_in);
	fprintf(f, "bytes_out %llu\n", (unsigned long long)st->bytes_out);
	fprintf(f, "backpressure %llu\n", (unsigned long long)st->backpressure);
	fprintf(f, "parse_bytes %llu\n", (unsigned long long)st->parse_bytes);
	fprintf(f, "mem_budget %llu\n", (unsigned long long)st->mem_budget);
	fprintf(f, "mem_in_use %llu\n", (unsigned long long)st->mem_in_use);
	fprintf(f, "mem_peak %llu\n", (unsigned long long)st->mem_peak);
	fprintf(f, "mem_pressure %llu\n", (unsigned long long)st->mem_pressure);
	fprintf(f, "refused_memory %llu\n", (unsigned long long)st->refused_memory);
	fprintf(f, "closed_memory %llu\n", (unsigned long long)st->closed_memory);
	fprintf(f, "closed_reply_too_large %llu\n",
		(unsigned long long)st->closed_reply_too_large);
}

/**
 * kg_user_main() - main() of a generated user-space server
 * @argc: main()'s
 * @argv: main()'s
 * @m: what to serve
 *
 * Parses the flags, runs @m->init, prints "serving <name> on <addr>:<port>"
 * (an IPv6 <addr> in brackets)
 * on stdout, serves until SIGINT or SIGTERM, stops the server, prints its
 * counters on stderr and runs @m->exit.
 *
 * Return: the exit status: 0, 1 (init, start or the event loop failed) or 2
 * (usage error).
 */
int kg_user_main(int argc, char **argv, const struct kg_user_main *m)
{
	struct kg_server_config cfg;
	struct kg_server_stats st;
	struct kg_server *srv;
	char where[KG_ADDR_PORT_SIZE];
	void *data = NULL;
	int ret;

	ret = kg_server_config_from_args(&cfg, argc, argv, m);
	if (ret)
		return ret == KG_ARGS_HELP ? 0 : 2;
	if (m->init) {
		ret = m->init(&data);
		if (ret) {
			fprintf(stderr, "%s: handler init: %s\n", m->service->name, strerror(-ret));
			return 1;
		}
	}
	m->service->data = data;
	ret = kg_server_start(&srv, &cfg, m->service);
	if (ret) {
		fprintf(stderr, "cannot serve on %s: %s\n", kg_addr_port(where, cfg.addr, cfg.port),
			strerror(-ret));
		if (m->exit)
			m->exit(data);
		return 1;
	}
	printf("serving %s on %s\n", m->service->name,
	       kg_addr_port(where, cfg.addr, kg_server_port(srv)));
	fflush(stdout);
	ret = kg_server_run(srv);	/* until SIGINT or SIGTERM */
	kg_server_stop_stats(srv, &st);
	fprintf(stderr, "stopped serving %s; counters:\n", m->service->name);
	kg_server_stats_print(stderr, &st);
	if (m->exit)
		m->exit(data);
	if (ret < 0) {
		fprintf(stderr, "event loop: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
