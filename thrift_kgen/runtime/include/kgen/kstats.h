/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel only: a server's counters (kg_server_stats()) in debugfs, as
 * /sys/kernel/debug/<name>/stats, one "name value" pair per line.
 */
#ifndef _KGEN_KSTATS_H
#define _KGEN_KSTATS_H

#include "server.h"

struct seq_file;
struct kg_debugfs;

/* Lines a module adds after the server's counters (e.g. its own counters). */
typedef void (*kg_debugfs_extra_fn)(struct seq_file *m, void *data);

/*
 * Create the directory and its stats file for @srv. Returns NULL when
 * debugfs is unavailable: statistics are optional, serving goes on.
 */
struct kg_debugfs *kg_debugfs_create(const char *name, struct kg_server *srv,
				     kg_debugfs_extra_fn extra, void *data);
/* Remove it; waits for readers, so call it before kg_server_stop(). */
void kg_debugfs_remove(struct kg_debugfs *d);

#endif /* _KGEN_KSTATS_H */
