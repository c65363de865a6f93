// SPDX-License-Identifier: GPL-2.0
/*
 * Test handler for the Jaeger agent (tests/data/jaeger/agent.thrift): counts
 * the spans of every emitBatch, and prints what the tests read:
 *  - a batch from process "kgen-report" is not counted; it prints
 *    "agent: report <n> batches <b> spans <s> idsum <x>" (n: the report
 *    batch's first span id), so a test can read the counts while serving;
 *  - a batch that came over TCP prints "agent: tcp batch <n> spans <s>";
 *  - at exit: "agent: exit batches <b> spans <s> idsum <x>".
 * idsum adds up the span ids, so a span counted twice and another lost do
 * not cancel out. Kernel: pr_info (dmesg); user space: stdout.
 */
#include "agent_module.h"
#include <kgen/netcompat.h>

#ifdef __KERNEL__
#define agent_print(fmt, ...)	pr_info(fmt "\n", ##__VA_ARGS__)
#else
#define agent_print(fmt, ...)	do { printf(fmt "\n", ##__VA_ARGS__); fflush(stdout); } while (0)
#endif

struct agent_counts {
	atomic64_t batches;
	atomic64_t spans;
	atomic64_t idsum;
};

int agent_handler_init(void **data)
{
	struct agent_counts *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	atomic64_set(&c->batches, 0);
	atomic64_set(&c->spans, 0);
	atomic64_set(&c->idsum, 0);
	*data = c;
	return 0;
}

void agent_handler_exit(void *data)
{
	struct agent_counts *c = data;

	agent_print("agent: exit batches %lld spans %lld idsum %lld",
		    (long long)atomic64_read(&c->batches), (long long)atomic64_read(&c->spans),
		    (long long)atomic64_read(&c->idsum));
	kfree(c);
}

static bool agent_is(const struct kg_bytes *b, const char *s)
{
	size_t n = strlen(s);

	return b->len == n && !memcmp(b->data, s, n);
}

int agent_agent_emit_batch(struct kg_call *call, const struct jaeger_batch *batch)
{
	struct agent_counts *c = call->service_data;
	s64 first = batch->spans.count ? batch->spans.elems[0].span_id : 0;
	s64 sum = 0;
	u32 i;

	if (agent_is(&batch->process.service_name, "kgen-report")) {
		agent_print("agent: report %lld batches %lld spans %lld idsum %lld",
			    (long long)first, (long long)atomic64_read(&c->batches),
			    (long long)atomic64_read(&c->spans),
			    (long long)atomic64_read(&c->idsum));
		return 0;
	}
	for (i = 0; i < batch->spans.count; i++)
		sum += batch->spans.elems[i].span_id;
	atomic64_inc(&c->batches);
	atomic64_add(batch->spans.count, &c->spans);
	atomic64_add(sum, &c->idsum);
	if (call->conn)
		agent_print("agent: tcp batch %lld spans %u", (long long)first, batch->spans.count);
	return 0;
}
