// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers for service ThriftTest (ThriftTest.thrift).
 *
 * Written once by thrift-kgen as a starting point: this file is yours, and
 * thrift-kgen never overwrites it. Every handler below returns -EOPNOTSUPP,
 * which clients see as an INTERNAL_ERROR "not implemented"; the handler API
 * is documented in the service headers.
 */
#include "thrift_test_module.h"

/**
 * thrift_test_handler_init() - set up the handlers' state
 * @data: the state every handler finds in &kg_call.service_data
 *
 * Return: 0, or a negative errno to refuse to start.
 */
int thrift_test_handler_init(void **data)
{
	*data = NULL;
	return 0;
}

/**
 * thrift_test_handler_exit() - release the handlers' state
 * @data: what thrift_test_handler_init() set
 */
void thrift_test_handler_exit(void *data)
{
}

/* ---- ThriftTest ---- */

int thrift_test_thrift_test_test_void(struct kg_call *call)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_string(struct kg_call *call, struct kg_bytes thing,
					struct kg_bytes *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_bool(struct kg_call *call, bool thing, bool *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_byte(struct kg_call *call, s8 thing, s8 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_i32(struct kg_call *call, s32 thing, s32 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_i64(struct kg_call *call, s64 thing, s64 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_double(struct kg_call *call, u64 thing, u64 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_binary(struct kg_call *call, struct kg_bytes thing,
					struct kg_bytes *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_uuid(struct kg_call *call, const struct kg_uuid *thing,
				      struct kg_uuid *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_struct(struct kg_call *call,
					const struct thrift_test_xtruct *thing,
					struct thrift_test_xtruct *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_nest(struct kg_call *call, const struct thrift_test_xtruct2 *thing,
				      struct thrift_test_xtruct2 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_map(struct kg_call *call, const struct kg_map_i32_i32 *thing,
				     struct kg_map_i32_i32 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_string_map(struct kg_call *call,
					    const struct kg_map_string_string *thing,
					    struct kg_map_string_string *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_set(struct kg_call *call, const struct kg_set_i32 *thing,
				     struct kg_set_i32 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_list(struct kg_call *call, const struct kg_list_i32 *thing,
				      struct kg_list_i32 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_enum(struct kg_call *call, s32 thing, s32 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_typedef(struct kg_call *call, s64 thing, s64 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_map_map(struct kg_call *call, s32 hello,
					 struct kg_map_i32_map_i32_i32 *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_insanity(struct kg_call *call,
					  const struct thrift_test_insanity *argument,
					  struct kg_map_i64_map_i32_thrift_test_insanity *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_multi(struct kg_call *call, s8 arg0, s32 arg1, s64 arg2,
				       const struct kg_map_i16_string *arg3, s32 arg4, s64 arg5,
				       struct thrift_test_xtruct *result)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_exception(struct kg_call *call, struct kg_bytes arg,
					   struct thrift_test_xception *err1)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_multi_exception(struct kg_call *call, struct kg_bytes arg0,
						 struct kg_bytes arg1,
						 struct thrift_test_xtruct *result,
						 struct thrift_test_xception *err1,
						 struct thrift_test_xception2 *err2)
{
	return -EOPNOTSUPP;
}

int thrift_test_thrift_test_test_oneway(struct kg_call *call, s32 seconds_to_sleep)
{
	return -EOPNOTSUPP;
}
