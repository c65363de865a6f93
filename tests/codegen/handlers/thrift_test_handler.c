// SPDX-License-Identifier: GPL-2.0
/*
 * ThriftTest handlers used by the tests: what Apache's cross-language test
 * servers answer (echoes, testMapMap, testInsanity, testMulti, exceptions).
 * Results point into the request (valid until the reply is written) or into
 * memory from the call's arena.
 */
#include "thrift_test_module.h"

#define TT_ALLOC(call, n, p) ((p) = kg_read_alloc((call)->in, (n), sizeof(*(p))))

static struct kg_bytes tt_str(const char *s)
{
	struct kg_bytes b = { .data = (const u8 *)s, .len = (u32)strlen(s) };

	return b;
}

int thrift_test_handler_init(void **data)
{
	*data = NULL;
	return 0;
}

void thrift_test_handler_exit(void *data)
{
}

int thrift_test_thrift_test_test_void(struct kg_call *call)
{
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

/* {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}} */
int thrift_test_thrift_test_test_map_map(struct kg_call *call, s32 hello,
					 struct kg_map_i32_map_i32_i32 *result)
{
	u32 i, j;

	if (!TT_ALLOC(call, 2, result->entries))
		return -ENOMEM;
	result->count = 2;
	for (i = 0; i < 2; i++) {
		struct kg_map_i32_map_i32_i32_entry *e = &result->entries[i];
		s32 sign = i ? 1 : -1;

		e->key = 4 * sign;
		if (!TT_ALLOC(call, 4, e->value.entries))
			return -ENOMEM;
		e->value.count = 4;
		for (j = 0; j < 4; j++) {
			e->value.entries[j].key = sign * (s32)(j + 1);
			e->value.entries[j].value = sign * (s32)(j + 1);
		}
	}
	return 0;
}

/* {1: {TWO: argument, THREE: argument}, 2: {SIX: {}}} */
int thrift_test_thrift_test_test_insanity(struct kg_call *call,
					  const struct thrift_test_insanity *argument,
					  struct kg_map_i64_map_i32_thrift_test_insanity *result)
{
	struct kg_map_i64_map_i32_thrift_test_insanity_entry *e;

	if (!TT_ALLOC(call, 2, result->entries))
		return -ENOMEM;
	result->count = 2;
	e = &result->entries[0];
	e->key = 1;
	if (!TT_ALLOC(call, 2, e->value.entries))
		return -ENOMEM;
	e->value.count = 2;
	e->value.entries[0].key = THRIFT_TEST_NUMBERZ_TWO;
	e->value.entries[0].value = *argument;
	e->value.entries[1].key = THRIFT_TEST_NUMBERZ_THREE;
	e->value.entries[1].value = *argument;
	e = &result->entries[1];
	e->key = 2;
	if (!TT_ALLOC(call, 1, e->value.entries))
		return -ENOMEM;
	e->value.count = 1;
	e->value.entries[0].key = THRIFT_TEST_NUMBERZ_SIX;
	thrift_test_insanity_init(&e->value.entries[0].value);
	return 0;
}

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

static bool tt_eq(struct kg_bytes b, const char *s)
{
	return b.len == strlen(s) && !memcmp(b.data, s, b.len);
}

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

int thrift_test_thrift_test_test_oneway(struct kg_call *call, s32 seconds_to_sleep)
{
	return 0;	/* a server must not sleep in its event loop */
}
