// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers for derived.thrift used by the tests: a store of 8 slots.
 * SharedService (shared.thrift, the base of the base) reads a slot, Derived
 * writes and lists them, Leaf counts writes.
 */
#include "derived_module.h"

#define SLOTS 8
#define VALUE_MAX 32

struct store {
	struct mutex lock;
	bool used[SLOTS];
	u8 value[SLOTS][VALUE_MAX];
	u32 len[SLOTS];
	s64 puts;
	s64 pings;
};

int derived_handler_init(void **data)
{
	struct store *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	mutex_init(&st->lock);
	*data = st;
	return 0;
}

void derived_handler_exit(void *data)
{
	kfree(data);
}

static void fill(struct store *st, s32 key, struct shared_shared_struct *out)
{
	out->key = key;
	out->isset.key = true;
	out->value.data = st->value[key];
	out->value.len = st->len[key];
	out->isset.value = true;
}

int shared_shared_service_get_struct(struct kg_call *call, s32 key,
				     struct shared_shared_struct *result)
{
	struct store *st = call->service_data;

	if (key < 0 || key >= SLOTS)
		return -ERANGE;
	fill(st, key, result);	/* slot memory outlives the call */
	return 0;
}

int shared_shared_service_ping(struct kg_call *call)
{
	struct store *st = call->service_data;

	st->pings++;
	return 0;
}

int derived_derived_put(struct kg_call *call, const struct shared_shared_struct *s,
			struct derived_not_found *nf)
{
	static const char msg[] = "no such slot";
	struct store *st = call->service_data;

	if (s->key < 0 || s->key >= SLOTS || s->value.len > VALUE_MAX) {
		nf->what.data = (const u8 *)msg;
		nf->what.len = sizeof(msg) - 1;
		nf->isset.what = true;
		return DERIVED_DERIVED_PUT_NF;
	}
	mutex_lock(&st->lock);
	memcpy(st->value[s->key], s->value.data, s->value.len);
	st->len[s->key] = s->value.len;
	st->used[s->key] = true;
	st->puts++;
	mutex_unlock(&st->lock);
	return 0;
}

int derived_derived_all(struct kg_call *call, struct kg_list_shared_shared_struct *result)
{
	struct store *st = call->service_data;
	u32 n = 0;
	s32 i;

	result->elems = kg_read_alloc(call->in, SLOTS, sizeof(*result->elems));
	if (!result->elems)
		return -ENOMEM;
	for (i = 0; i < SLOTS; i++)
		if (st->used[i])
			fill(st, i, &result->elems[n++]);
	result->count = n;
	return 0;
}

int derived_leaf_count(struct kg_call *call, s64 *result)
{
	struct store *st = call->service_data;

	*result = st->puts * 1000 + st->pings;
	return 0;
}
