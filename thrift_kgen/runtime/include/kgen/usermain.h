/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User space only: the main() of a generated server (<module>_user).
 *
 * The settings the kernel module takes as parameters are command-line flags
 * here (--addr, --port, ..., one per struct kg_param, '-' for '_');
 * kg_user_main() parses them, runs the handler file's init hook, serves until
 * SIGINT/SIGTERM, prints the server's counters on stderr and runs the exit
 * hook. Generated code only fills a struct kg_user_main and calls it.
 */
#ifndef _KGEN_USERMAIN_H
#define _KGEN_USERMAIN_H

#include <stdio.h>

#include "server.h"
#include "params.h"

struct kg_user_main {
	struct kg_service *service;	/* served; ->name is printed, ->data set from init */
	const char *source;		/* the IDL file, for --help */
	const struct kg_param *params;	/* the module's parameters: one flag each */
	size_t nparams;
	int (*init)(void **data);	/* the handler file's hooks; either may be NULL */
	void (*exit)(void *data);
};

/* kg_server_config_from_args() printed --help: exit 0. */
#define KG_ARGS_HELP	1

/*
 * Fill @cfg from kg_server_config_defaults() and @m->params as the flags
 * in @argv set them (getopt_long(), so call it once per process). Returns 0,
 * KG_ARGS_HELP after printing the usage on stdout, or -EINVAL after printing
 * what is wrong (and the usage) on stderr.
 */
int kg_server_config_from_args(struct kg_server_config *cfg, int argc, char **argv,
			       const struct kg_user_main *m);

/* The counters as debugfs shows them in the kernel: one "name value" per line. */
void kg_server_stats_print(FILE *f, const struct kg_server_stats *st);

/*
 * The whole main(): returns the process exit status (0; 1 when init, the
 * server or its loop failed; 2 for a usage error).
 */
int kg_user_main(int argc, char **argv, const struct kg_user_main *m);

#endif /* _KGEN_USERMAIN_H */
