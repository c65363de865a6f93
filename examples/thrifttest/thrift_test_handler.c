// SPDX-License-Identifier: GPL-2.0
/*
 * Apache Thrift's cross-language test service ThriftTest
 * (idl/ThriftTest.thrift), every method as its IDL comment specifies.
 *
 * Returning an argument: the arguments are decoded into the call's arena
 * and their strings and binaries point into the received message; both live
 * until the call ends, after the reply is written, so results may share
 * them (shallow copies). New data (testInsanity, testMapMap) is allocated
 * from the call's arena with kg_read_alloc().
 *
 * testException("TException") fails the handler with -EIO: the client gets
 * a TApplicationException (INTERNAL_ERROR), which is what other servers send
 * for a plain TException.
 *
 * testOneway(secondsToSleep) does not sleep. Apache's servers sleep in the
 * handler to show that a oneway call does not hold up the client; here the
 * handler runs on the connection's worker (a kernel workqueue, or the single
 * user-space event loop) and sleeping there would hold up every message of
 * the connection (and, in user space, every connection). The call is only
 * counted; the client side of the check (the call returns at once, the
 * connection keeps working) is the same.
 *
 * The handlers keep no state but an atomic counter: any number of calls
 * may run at once.
 */
#include "thrift_test_module.h"
#include <kgen/netcompat.h>

struct tt_state {
	atomic64_t oneways;
};

int thrift_test_handler_init(void **data)
{
	struct tt_state *st = kzalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	atomic64_set(&st->oneways, 0);
	*data = st;
	return 0;
}

void thrift_test_handler_exit(void *data)
{
	kfree(data);
}

static struct kg_bytes tt_str(const char *s)
{
	struct kg_bytes b = { .data = (const u8 *)s, .len = strlen(s) };

	return b;
}

static bool tt_eq(struct kg_bytes b, const char *s)
{
	return b.len == strlen(s) && !memcmp(b.data, s, b.len);
}

/* ---- ThriftTest ---- */

int thrift_test_thrift_test_test_void(struct kg_call *call)
{
	pr_debug("testVoid()\n");
	return 0;
}

int thrift_test_thrift_test_test_string(struct kg_call *call, struct kg_bytes thing,
					struct kg_bytes *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_bool(struct kg_call *call, bool thing, bool *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_byte(struct kg_call *call, s8 thing, s8 *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_i32(struct kg_call *call, s32 thing, s32 *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_i64(struct kg_call *call, s64 thing, s64 *result)
{
	*result = thing;
	return 0;
}

/* Doubles are their IEEE-754 bit pattern: returned untouched, no FPU needed. */
int thrift_test_thrift_test_test_double(struct kg_call *call, u64 thing, u64 *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_binary(struct kg_call *call, struct kg_bytes thing,
					struct kg_bytes *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_uuid(struct kg_call *call, const struct kg_uuid *thing,
				      struct kg_uuid *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_struct(struct kg_call *call,
					const struct thrift_test_xtruct *thing,
					struct thrift_test_xtruct *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_nest(struct kg_call *call, const struct thrift_test_xtruct2 *thing,
				      struct thrift_test_xtruct2 *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_map(struct kg_call *call, const struct kg_map_i32_i32 *thing,
				     struct kg_map_i32_i32 *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_string_map(struct kg_call *call,
					    const struct kg_map_string_string *thing,
					    struct kg_map_string_string *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_set(struct kg_call *call, const struct kg_set_i32 *thing,
				     struct kg_set_i32 *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_list(struct kg_call *call, const struct kg_list_i32 *thing,
				      struct kg_list_i32 *result)
{
	*result = *thing;
	return 0;
}

int thrift_test_thrift_test_test_enum(struct kg_call *call, s32 thing, s32 *result)
{
	*result = thing;
	return 0;
}

int thrift_test_thrift_test_test_typedef(struct kg_call *call, s64 thing, s64 *result)
{
	*result = thing;
	return 0;
}

/*
 * {-4 => {-4 => -4, -3 => -3, -2 => -2, -1 => -1},
 *   4 => {1 => 1, 2 => 2, 3 => 3, 4 => 4}}
 */
int thrift_test_thrift_test_test_map_map(struct kg_call *call, s32 hello,
					 struct kg_map_i32_map_i32_i32 *result)
{
	struct kg_map_i32_map_i32_i32_entry *outer;
	struct kg_map_i32_i32_entry *inner;
	int i;

	pr_debug("testMapMap(%d)\n", hello);
	outer = kg_read_alloc(call->in, 2, sizeof(*outer));
	inner = kg_read_alloc(call->in, 8, sizeof(*inner));
	if (!outer || !inner)
		return -ENOMEM;
	for (i = 0; i < 4; i++) {
		inner[i].key = -4 + i;
		inner[i].value = -4 + i;
		inner[4 + i].key = 1 + i;
		inner[4 + i].value = 1 + i;
	}
	outer[0].key = -4;
	outer[0].value.count = 4;
	outer[0].value.entries = inner;
	outer[1].key = 4;
	outer[1].value.count = 4;
	outer[1].value.entries = inner + 4;
	result->count = 2;
	result->entries = outer;
	return 0;
}

/*
 * { 1 => { 2 => argument, 3 => argument },
 *   2 => { 6 => <empty Insanity struct> } }
 */
int thrift_test_thrift_test_test_insanity(struct kg_call *call,
					  const struct thrift_test_insanity *argument,
					  struct kg_map_i64_map_i32_thrift_test_insanity *result)
{
	struct kg_map_i64_map_i32_thrift_test_insanity_entry *outer;
	struct kg_map_i32_thrift_test_insanity_entry *inner;

	outer = kg_read_alloc(call->in, 2, sizeof(*outer));
	inner = kg_read_alloc(call->in, 3, sizeof(*inner));	/* zeroed: [2] is empty */
	if (!outer || !inner)
		return -ENOMEM;
	inner[0].key = THRIFT_TEST_NUMBERZ_TWO;
	inner[0].value = *argument;
	inner[1].key = THRIFT_TEST_NUMBERZ_THREE;
	inner[1].value = *argument;
	inner[2].key = THRIFT_TEST_NUMBERZ_SIX;
	outer[0].key = 1;
	outer[0].value.count = 2;
	outer[0].value.entries = inner;
	outer[1].key = 2;
	outer[1].value.count = 1;
	outer[1].value.entries = inner + 2;
	result->count = 2;
	result->entries = outer;
	return 0;
}

/* Xtruct{string_thing = "Hello2", byte_thing = arg0, i32_thing = arg1, i64_thing = arg2} */
int thrift_test_thrift_test_test_multi(struct kg_call *call, s8 arg0, s32 arg1, s64 arg2,
				       const struct kg_map_i16_string *arg3, s32 arg4, s64 arg5,
				       struct thrift_test_xtruct *result)
{
	result->string_thing = tt_str("Hello2");
	result->isset.string_thing = true;
	result->byte_thing = arg0;
	result->isset.byte_thing = true;
	result->i32_thing = arg1;
	result->isset.i32_thing = true;
	result->i64_thing = arg2;
	result->isset.i64_thing = true;
	return 0;
}

/*
 * "Xception": Xception{errorCode = 1001, message = arg};
 * "TException": a TApplicationException; anything else: no exception.
 */
int thrift_test_thrift_test_test_exception(struct kg_call *call, struct kg_bytes arg,
					   struct thrift_test_xception *err1)
{
	if (tt_eq(arg, "Xception")) {
		err1->error_code = 1001;
		err1->isset.error_code = true;
		err1->message = arg;
		err1->isset.message = true;
		return THRIFT_TEST_THRIFT_TEST_TEST_EXCEPTION_ERR1;
	}
	if (tt_eq(arg, "TException"))
		return -EIO;
	return 0;
}

/*
 * arg0 "Xception": Xception{1001, "This is an Xception"};
 * arg0 "Xception2": Xception2{2002, struct_thing.string_thing = "This is an Xception2"};
 * else Xtruct{string_thing = arg1}.
 */
int thrift_test_thrift_test_test_multi_exception(struct kg_call *call, struct kg_bytes arg0,
						 struct kg_bytes arg1,
						 struct thrift_test_xtruct *result,
						 struct thrift_test_xception *err1,
						 struct thrift_test_xception2 *err2)
{
	if (tt_eq(arg0, "Xception")) {
		err1->error_code = 1001;
		err1->isset.error_code = true;
		err1->message = tt_str("This is an Xception");
		err1->isset.message = true;
		return THRIFT_TEST_THRIFT_TEST_TEST_MULTI_EXCEPTION_ERR1;
	}
	if (tt_eq(arg0, "Xception2")) {
		err2->error_code = 2002;
		err2->isset.error_code = true;
		err2->struct_thing.string_thing = tt_str("This is an Xception2");
		err2->struct_thing.isset.string_thing = true;
		err2->isset.struct_thing = true;
		return THRIFT_TEST_THRIFT_TEST_TEST_MULTI_EXCEPTION_ERR2;
	}
	result->string_thing = arg1;
	result->isset.string_thing = true;
	return 0;
}

/* Oneway: counted, no sleep (see the top of this file). */
int thrift_test_thrift_test_test_oneway(struct kg_call *call, s32 seconds_to_sleep)
{
	struct tt_state *st = call->service_data;

	atomic64_inc(&st->oneways);
	pr_debug("testOneway(%d): not sleeping\n", seconds_to_sleep);
	return 0;
}
