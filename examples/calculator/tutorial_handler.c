// SPDX-License-Identifier: GPL-2.0
/*
 * Apache Thrift's tutorial Calculator (idl/tutorial.thrift, extending
 * shared.SharedService from idl/shared.thrift), served as calculator.ko.
 *
 * As Apache's tutorial servers: calculate(logid, w) computes w.num1 (w.op)
 * w.num2 and logs SharedStruct{key = logid, value = the result in decimal},
 * which getStruct(logid) returns. Division by zero and unknown operations
 * throw InvalidOperation{whatOp = the op, why = "Cannot divide by 0" /
 * "Invalid operation"}; so does INT_MIN / -1 ("Integer overflow"). Other
 * arithmetic wraps around (two's complement), as in Apache's C++ server.
 *
 * The log is bounded: CALC_LOG_SIZE entries; a new logid replaces the
 * oldest entry, an existing logid is updated in place. getStruct() of a
 * logid that is not in the log returns an empty SharedStruct (no field
 * set). The log is protected by a mutex: in the kernel, calls from
 * different connections may run at the same time.
 */
#include "tutorial_module.h"

#define CALC_LOG_SIZE	128
/* "-2147483648" and a NUL */
#define CALC_VALUE_MAX	12

struct calc_entry {
	bool used;
	s32 key;
	u8 len;
	char value[CALC_VALUE_MAX];
};

struct calc_state {
	struct mutex lock;		/* log[] and next */
	struct calc_entry log[CALC_LOG_SIZE];
	u32 next;			/* the slot a new logid takes (the oldest) */
};

int tutorial_handler_init(void **data)
{
	struct calc_state *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	mutex_init(&st->lock);
	*data = st;
	return 0;
}

void tutorial_handler_exit(void *data)
{
	struct calc_state *st = data;

	mutex_destroy(&st->lock);
	kfree(st);
}

/* Record @value under @key: update in place, or take the oldest slot. */
static void calc_log(struct calc_state *st, s32 key, s32 value)
{
	struct calc_entry *e = NULL;
	u32 i;
	int n;

	mutex_lock(&st->lock);
	for (i = 0; i < CALC_LOG_SIZE; i++) {
		if (st->log[i].used && st->log[i].key == key) {
			e = &st->log[i];
			break;
		}
	}
	if (!e) {
		e = &st->log[st->next];
		st->next = (st->next + 1) % CALC_LOG_SIZE;
	}
	e->used = true;
	e->key = key;
	n = snprintf(e->value, sizeof(e->value), "%d", value);
	e->len = n < 0 ? 0 : min_t(int, n, sizeof(e->value) - 1);
	mutex_unlock(&st->lock);
}

/* ---- SharedService ---- */

int shared_shared_service_get_struct(struct kg_call *call, s32 key,
				     struct shared_shared_struct *result)
{
	struct calc_state *st = call->service_data;
	u8 *copy = NULL;
	u32 i;

	mutex_lock(&st->lock);
	for (i = 0; i < CALC_LOG_SIZE; i++) {
		const struct calc_entry *e = &st->log[i];

		if (!e->used || e->key != key)
			continue;
		/* The reply is written after we return: copy into the call's arena. */
		copy = kg_read_alloc(call->in, CALC_VALUE_MAX, 1);
		if (copy) {
			memcpy(copy, e->value, e->len);
			result->key = e->key;
			result->isset.key = true;
			result->value.data = copy;
			result->value.len = e->len;
			result->isset.value = true;
		}
		break;
	}
	mutex_unlock(&st->lock);
	if (i < CALC_LOG_SIZE && !copy)
		return -ENOMEM;
	return 0;
}

/* ---- Calculator ---- */

int tutorial_calculator_ping(struct kg_call *call)
{
	pr_debug("ping()\n");
	return 0;
}

int tutorial_calculator_add(struct kg_call *call, s32 num1, s32 num2, s32 *result)
{
	*result = (s32)((u32)num1 + (u32)num2);
	return 0;
}

static int calc_invalid(struct tutorial_invalid_operation *ouch, s32 op, const char *why)
{
	ouch->what_op = op;
	ouch->isset.what_op = true;
	ouch->why.data = (const u8 *)why;
	ouch->why.len = strlen(why);
	ouch->isset.why = true;
	return TUTORIAL_CALCULATOR_CALCULATE_OUCH;
}

int tutorial_calculator_calculate(struct kg_call *call, s32 logid, const struct tutorial_work *w,
				  s32 *result, struct tutorial_invalid_operation *ouch)
{
	struct calc_state *st = call->service_data;
	u32 a = (u32)w->num1, b = (u32)w->num2;
	s32 val;

	switch (w->op) {
	case TUTORIAL_OPERATION_ADD:
		val = (s32)(a + b);
		break;
	case TUTORIAL_OPERATION_SUBTRACT:
		val = (s32)(a - b);
		break;
	case TUTORIAL_OPERATION_MULTIPLY:
		val = (s32)(a * b);
		break;
	case TUTORIAL_OPERATION_DIVIDE:
		if (!w->num2)
			return calc_invalid(ouch, w->op, "Cannot divide by 0");
		if (w->num1 == S32_MIN && w->num2 == -1)
			return calc_invalid(ouch, w->op, "Integer overflow");
		val = w->num1 / w->num2;
		break;
	default:
		return calc_invalid(ouch, w->op, "Invalid operation");
	}
	calc_log(st, logid, val);
	*result = val;
	return 0;
}

int tutorial_calculator_zip(struct kg_call *call)
{
	pr_debug("zip()\n");
	return 0;
}
