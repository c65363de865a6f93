// SPDX-License-Identifier: GPL-2.0
/*
 * User space only: the main() of a generated server, so generated code
 * carries no option parsing of its own. The flags are the module's
 * parameters (the table the glue passes, thrift_kgen/codegen/params.py).
 */
#include <getopt.h>

#include "kgen/usermain.h"
#include "kgen/event.h"		/* kg_addr_port() */

#define KG_MAX_PARAMS	64
#define KG_OPT_PARAM	256	/* getopt value of params[0]; the others follow */

/* The flag of a parameter: its name with '-' for '_'. */
static void kg_flag_name(char *flag, size_t size, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < size && name[i]; i++)
		flag[i] = name[i] == '_' ? '-' : name[i];
	flag[i] = '\0';
}

static void kg_usage(FILE *f, const char *argv0, const struct kg_user_main *m)
{
	char flag[40], arg[48];
	size_t i;

	fprintf(f, "usage: %s [options]\nServe %s (%s) over Thrift.\n", argv0,
		m->service->name, m->source);
	for (i = 0; i < m->nparams; i++) {
		kg_flag_name(flag, sizeof(flag), m->params[i].name);
		snprintf(arg, sizeof(arg), "--%s %s", flag,
			 m->params[i].kind == KG_PARAM_STRING ? "S" :
			 m->params[i].kind == KG_PARAM_CHOICE ? "WORD" : "N");
		fprintf(f, "  %-24s %s\n", arg, m->params[i].help);
	}
	fprintf(f,
		"  --help                   this text\n"
		"On exit (SIGINT, SIGTERM) the server's counters are printed on stderr.\n");
}

/**
 * kg_server_config_from_args() - the server's settings from the command line
 * @cfg: filled: the runtime's defaults, then @m->params as the flags set them
 * @argc: main()'s
 * @argv: main()'s
 * @m: the service, its parameters (their variables hold the defaults)
 *
 * Return: 0, KG_ARGS_HELP (--help printed on stdout) or -EINVAL (the
 * problem and the usage printed on stderr).
 */
int kg_server_config_from_args(struct kg_server_config *cfg, int argc, char **argv,
			       const struct kg_user_main *m)
{
	static char flags[KG_MAX_PARAMS][40];
	struct option opts[KG_MAX_PARAMS + 2];
	const char *argv0 = argv[0];
	size_t i, n = 0;
	int c;

	if (m->nparams > KG_MAX_PARAMS) {
		fprintf(stderr, "%s: %zu parameters, at most %d\n", argv0, m->nparams,
			KG_MAX_PARAMS);
		return -EINVAL;
	}
	for (i = 0; i < m->nparams; i++) {
		kg_flag_name(flags[i], sizeof(flags[i]), m->params[i].name);
		opts[n++] = (struct option){ flags[i], required_argument, NULL,
					     KG_OPT_PARAM + (int)i };
	}
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			kg_usage(stdout, argv0, m);
			return KG_ARGS_HELP;
		}
		if (c >= KG_OPT_PARAM && c < KG_OPT_PARAM + (int)m->nparams) {
			i = (size_t)(c - KG_OPT_PARAM);
			if (kg_param_parse(&m->params[i], flags[i], optarg))
				return -EINVAL;
			continue;
		}
		kg_usage(stderr, argv0, m);
		return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
		kg_usage(stderr, argv0, m);
		return -EINVAL;
	}
	return kg_params_config(cfg, m->params, m->nparams);
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
	fprintf(f, "bytes_out_zerocopy %llu\n", (unsigned long long)st->bytes_out_zerocopy);
	fprintf(f, "rx_inplace_bytes %llu\n", (unsigned long long)st->rx_inplace_bytes);
	fprintf(f, "backpressure %llu\n", (unsigned long long)st->backpressure);
	fprintf(f, "parse_bytes %llu\n", (unsigned long long)st->parse_bytes);
	fprintf(f, "mem_budget %llu\n", (unsigned long long)st->mem_budget);
	fprintf(f, "mem_in_use %llu\n", (unsigned long long)st->mem_in_use);
	fprintf(f, "mem_peak %llu\n", (unsigned long long)st->mem_peak);
	fprintf(f, "mem_cached %llu\n", (unsigned long long)st->mem_cached);
	fprintf(f, "mem_pressure %llu\n", (unsigned long long)st->mem_pressure);
	fprintf(f, "refused_memory %llu\n", (unsigned long long)st->refused_memory);
	fprintf(f, "closed_memory %llu\n", (unsigned long long)st->closed_memory);
	fprintf(f, "closed_reply_too_large %llu\n",
		(unsigned long long)st->closed_reply_too_large);
	fprintf(f, "conns_binary %llu\n", (unsigned long long)st->conns_binary);
	fprintf(f, "conns_compact %llu\n", (unsigned long long)st->conns_compact);
	fprintf(f, "dgrams_in %llu\n", (unsigned long long)st->dgrams_in);
	fprintf(f, "dgrams_dropped %llu\n", (unsigned long long)st->dgrams_dropped);
	fprintf(f, "dgrams_lost %llu\n", (unsigned long long)st->dgrams_lost);
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
