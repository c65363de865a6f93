// SPDX-License-Identifier: GPL-2.0
/*
 * Server counters in debugfs: /sys/kernel/debug/<name>/stats. debugfs
 * removal waits for readers in flight, so the server outlives every read
 * as long as kg_debugfs_remove() runs before kg_server_stop().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": stats: " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "kgen/kstats.h"

struct kg_debugfs {
	struct dentry *dir;
	struct kg_server *srv;
	kg_debugfs_extra_fn extra;
	void *data;
};

static int kg_stats_show(struct seq_file *m, void *unused)
{
	struct kg_debugfs *d = m->private;
	struct kg_server_stats st;

	kg_server_stats(d->srv, &st);
	seq_printf(m, "accepted %llu\n", st.accepted);
	seq_printf(m, "refused %llu\n", st.refused);
	seq_printf(m, "refused_max_conns %llu\n", st.refused_max_conns);
	seq_printf(m, "live %llu\n", st.live);
	seq_printf(m, "closed %llu\n", st.closed);
	seq_printf(m, "closed_idle %llu\n", st.closed_idle);
	seq_printf(m, "closed_message_timeout %llu\n", st.closed_message_timeout);
	seq_printf(m, "closed_bad_input %llu\n", st.closed_bad_input);
	seq_printf(m, "messages %llu\n", st.messages);
	seq_printf(m, "bad_messages %llu\n", st.bad_messages);
	seq_printf(m, "app_exceptions %llu\n", st.app_exceptions);
	seq_printf(m, "bytes_in %llu\n", st.bytes_in);
	seq_printf(m, "bytes_out %llu\n", st.bytes_out);
	seq_printf(m, "bytes_out_zerocopy %llu\n", st.bytes_out_zerocopy);
	seq_printf(m, "rx_inplace_bytes %llu\n", st.rx_inplace_bytes);
	seq_printf(m, "backpressure %llu\n", st.backpressure);
	seq_printf(m, "parse_bytes %llu\n", st.parse_bytes);
	seq_printf(m, "mem_budget %llu\n", st.mem_budget);
	seq_printf(m, "mem_in_use %llu\n", st.mem_in_use);
	seq_printf(m, "mem_peak %llu\n", st.mem_peak);
	seq_printf(m, "mem_cached %llu\n", st.mem_cached);
	seq_printf(m, "mem_pressure %llu\n", st.mem_pressure);
	seq_printf(m, "refused_memory %llu\n", st.refused_memory);
	seq_printf(m, "closed_memory %llu\n", st.closed_memory);
	seq_printf(m, "closed_reply_too_large %llu\n", st.closed_reply_too_large);
	seq_printf(m, "conns_binary %llu\n", st.conns_binary);
	seq_printf(m, "conns_compact %llu\n", st.conns_compact);
	seq_printf(m, "dgrams_in %llu\n", st.dgrams_in);
	seq_printf(m, "dgrams_dropped %llu\n", st.dgrams_dropped);
	seq_printf(m, "dgrams_lost %llu\n", st.dgrams_lost);
	if (d->extra)
		d->extra(m, d->data);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kg_stats);

struct kg_debugfs *kg_debugfs_create(const char *name, struct kg_server *srv,
				     kg_debugfs_extra_fn extra, void *data)
{
	struct kg_debugfs *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	d->srv = srv;
	d->extra = extra;
	d->data = data;
	d->dir = debugfs_create_dir(name, NULL);
	if (IS_ERR_OR_NULL(d->dir)) {
		pr_notice("no debugfs directory %s (%ld)\n", name, PTR_ERR(d->dir));
		kfree(d);
		return NULL;
	}
	debugfs_create_file("stats", 0444, d->dir, d, &kg_stats_fops);
	return d;
}

void kg_debugfs_remove(struct kg_debugfs *d)
{
	if (!d)
		return;
	debugfs_remove(d->dir);
	kfree(d);
}
