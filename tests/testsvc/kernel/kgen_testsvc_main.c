// SPDX-License-Identifier: GPL-2.0
/*
 * kgen_testsvc.ko: the runtime's test services (tests/testsvc) served from
 * the kernel, built from the runtime alone (no generated code). Used by the
 * VM tests to prove the kernel event backend, the server and the services.
 *
 *   insmod kgen_testsvc.ko service=echo_raw|echo_msg|fwd_raw|calc port=9000
 *          [addr=::1] [transport=framed|buffered] [backends=h:p,h:p] [key=1]
 *          [wq_mode=0|1|2] [max_conns=N] [max_frame=N] [sndbuf_max=N] [budget=N]
 *          [idle_timeout_ms=N] [message_timeout_ms=N]
 *
 * Counters: /sys/kernel/debug/kgen_testsvc/stats.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>

#include "kgen/event.h"
#include "kgen/frame.h"
#include "kgen/kstats.h"
#include "testsvc.h"

static char *service = "echo_raw";
module_param(service, charp, 0444);
MODULE_PARM_DESC(service, "echo_raw (default), echo_msg (alias echo_thrift), fwd_raw or calc");
static char *addr = "127.0.0.1";
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "Address to listen on, IPv4 or IPv6 literal");
static unsigned int port = 9000;
module_param(port, uint, 0444);
MODULE_PARM_DESC(port, "TCP port (0: any; see the kernel log)");
static char *transport = "framed";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "framed (default) or buffered");
static char *backends = "";
module_param(backends, charp, 0444);
MODULE_PARM_DESC(backends, "fwd_raw: backends, host:port,host:port,... ([v6]:port)");
static bool key;
module_param(key, bool, 0444);
MODULE_PARM_DESC(key, "fwd_raw: route by the first i32 argument instead of round robin");
static int wq_mode;
module_param(wq_mode, int, 0444);
MODULE_PARM_DESC(wq_mode, "Workqueue: 0 ordered (default), 1 unbound, 2 per-cpu");
static unsigned int max_conns;
module_param(max_conns, uint, 0444);
MODULE_PARM_DESC(max_conns, "Connections served at once (0: the runtime's default)");
static unsigned int max_frame;
module_param(max_frame, uint, 0444);
MODULE_PARM_DESC(max_frame, "Bytes in one message (0: the runtime's default)");
static unsigned int sndbuf_max;
module_param(sndbuf_max, uint, 0444);
MODULE_PARM_DESC(sndbuf_max, "Bytes queued for sending per connection (0: default)");
static unsigned int budget;
module_param(budget, uint, 0444);
MODULE_PARM_DESC(budget, "Messages per connection per run (0: default)");
static unsigned int mem_budget;
module_param(mem_budget, uint, 0444);
MODULE_PARM_DESC(mem_budget, "Bytes of buffers and arenas for all connections (0: default)");
static unsigned int max_reply;
module_param(max_reply, uint, 0444);
MODULE_PARM_DESC(max_reply, "Largest reply (0: default, max_frame + 4)");
static unsigned int idle_timeout_ms = KG_DEFAULT_IDLE_TIMEOUT_MS;
module_param(idle_timeout_ms, uint, 0444);
MODULE_PARM_DESC(idle_timeout_ms, "Close a connection idle this long, in ms (0: never)");
static unsigned int message_timeout_ms = KG_DEFAULT_MESSAGE_TIMEOUT_MS;
module_param(message_timeout_ms, uint, 0444);
MODULE_PARM_DESC(message_timeout_ms, "Close a message incomplete this long, in ms (0: never)");

static struct kg_server *kgt_server;
static struct kg_debugfs *kgt_debugfs;
static struct kg_fwd_raw kgt_fwd;
static bool kgt_is_fwd;

static int kgt_config(struct kg_server_config *cfg)
{
	kg_server_config_defaults(cfg);
	cfg->addr = addr;
	if (port > 65535) {
		pr_err("port %u out of range\n", port);
		return -EINVAL;
	}
	cfg->port = port;
	if (!strcmp(transport, "framed")) {
		cfg->transport = KG_TRANSPORT_FRAMED;
	} else if (!strcmp(transport, "buffered")) {
		cfg->transport = KG_TRANSPORT_BUFFERED;
	} else {
		pr_err("unknown transport \"%s\" (framed or buffered)\n", transport);
		return -EINVAL;
	}
	if (wq_mode < KG_WQ_ORDERED || wq_mode > KG_WQ_PERCPU) {
		pr_err("wq_mode %d out of range (0 ordered, 1 unbound, 2 per-cpu)\n", wq_mode);
		return -EINVAL;
	}
	cfg->wq_mode = wq_mode;
	if (max_conns)
		cfg->max_conns = max_conns;
	if (max_frame) {
		cfg->limits.max_frame = max_frame;
		cfg->limits.max_string = max_frame;
	}
	if (sndbuf_max)
		cfg->sndbuf_max = sndbuf_max;
	if (budget)
		cfg->budget = budget;
	if (mem_budget)
		cfg->mem_budget = mem_budget;
	if (max_reply)
		cfg->max_reply = max_reply;
	cfg->idle_timeout_ms = idle_timeout_ms;
	cfg->message_timeout_ms = message_timeout_ms;
	/* Room for one whole message and its frame header. */
	if (cfg->rcvbuf_max < cfg->limits.max_frame + KG_FRAME_HEADER_LEN)
		cfg->rcvbuf_max = cfg->limits.max_frame + KG_FRAME_HEADER_LEN;
	return 0;
}

static const struct kg_service *kgt_service(void)
{
	if (!strcmp(service, "echo_raw"))
		return &kg_echo_raw_service;
	if (!strcmp(service, "echo_msg") || !strcmp(service, "echo_thrift"))
		return &kg_echo_thrift_service;
	if (!strcmp(service, "calc"))
		return &kg_calc_service;
	if (!strcmp(service, "fwd_raw")) {
		kg_fwd_raw_init(&kgt_fwd, key ? KG_FWD_BY_KEY : KG_FWD_ROUND_ROBIN);
		kgt_is_fwd = true;
		return &kgt_fwd.service;
	}
	return NULL;
}

static void kgt_fwd_stats(struct seq_file *m, void *data)
{
	struct kg_fwd_raw *fwd = data;

	seq_printf(m, "backends %u\n", fwd->nbackends);
	seq_printf(m, "forwarded %lld\n", (long long)atomic64_read(&fwd->forwarded));
	seq_printf(m, "dropped %lld\n", (long long)atomic64_read(&fwd->dropped));
}

static int __init kgt_init(void)
{
	char where[KG_ADDR_PORT_SIZE];
	const struct kg_service *svc;
	struct kg_server_config cfg;
	int ret;

	ret = kgt_config(&cfg);
	if (ret)
		return ret;
	svc = kgt_service();
	if (!svc) {
		pr_err("unknown service \"%s\"\n", service);
		return -EINVAL;
	}
	ret = kg_server_start(&kgt_server, &cfg, svc);
	if (ret) {
		pr_err("cannot serve on %s: %d\n", kg_addr_port(where, addr, port), ret);
		return ret;
	}
	if (kgt_is_fwd && *backends) {
		ret = kg_fwd_raw_connect(&kgt_fwd, kgt_server, backends);
		if (ret) {
			pr_err("backends \"%s\": %d\n", backends, ret);
			kg_server_stop(kgt_server);
			kg_fwd_raw_exit(&kgt_fwd);
			return ret;
		}
	}
	kgt_debugfs = kg_debugfs_create(KBUILD_MODNAME, kgt_server,
					kgt_is_fwd ? kgt_fwd_stats : NULL, &kgt_fwd);
	pr_info("serving %s on %s (wq_mode %d)\n", service,
		kg_addr_port(where, addr, kg_server_port(kgt_server)), wq_mode);
	return 0;
}

static void __exit kgt_exit(void)
{
	struct kg_server_stats st;

	/* Readers of the stats file are done once this returns. */
	kg_debugfs_remove(kgt_debugfs);
	/* Closes every connection, waits for their work, frees the workqueue. */
	kg_server_stop_stats(kgt_server, &st);
	if (kgt_is_fwd)
		kg_fwd_raw_exit(&kgt_fwd);
	pr_info("stopped: accepted %llu closed %llu messages %llu bad %llu\n",
		st.accepted, st.closed, st.messages, st.bad_messages);
	pr_info("memory: in_use %llu peak %llu budget %llu\n",
		st.mem_in_use, st.mem_peak, st.mem_budget);
}

module_init(kgt_init);
module_exit(kgt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("thrift-kgen runtime test services (echo, message echo, forwarder)");
