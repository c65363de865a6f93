// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers for service Everything (alltypes.thrift).
 *
 * Written once by thrift-kgen as a starting point: this file is yours, and
 * thrift-kgen never overwrites it. Every handler below returns -EOPNOTSUPP,
 * which clients see as an INTERNAL_ERROR "not implemented"; the handler API
 * is documented in the service headers.
 */
#include "alltypes_module.h"

/**
 * alltypes_handler_init() - set up the handlers' state
 * @data: the state every handler finds in &kg_call.service_data
 *
 * Return: 0, or a negative errno to refuse to start.
 */
int alltypes_handler_init(void **data)
{
	*data = NULL;
	return 0;
}

/**
 * alltypes_handler_exit() - release the handlers' state
 * @data: what alltypes_handler_init() set
 */
void alltypes_handler_exit(void *data)
{
}

/* ---- Everything ---- */

int alltypes_everything_nothing(struct kg_call *call)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_flip(struct kg_call *call, bool b, bool *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_byte8(struct kg_call *call, s8 b, s8 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_short16(struct kg_call *call, s16 s, s16 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_int32(struct kg_call *call, s32 i, s32 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_long64(struct kg_call *call, s64 l, s64 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_dbl(struct kg_call *call, u64 d, u64 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_str(struct kg_call *call, struct kg_bytes s, struct kg_bytes *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_bin(struct kg_call *call, struct kg_bytes b, struct kg_bytes *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_id(struct kg_call *call, const struct kg_uuid *u, struct kg_uuid *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_color(struct kg_call *call, s32 c, s32 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_when(struct kg_call *call, s64 t, s64 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_names(struct kg_call *call, const struct kg_list_string *n,
			      struct kg_list_string *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_point(struct kg_call *call, const struct alltypes_point *p,
			      struct alltypes_point *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_shape(struct kg_call *call, const struct alltypes_shape *s,
			      struct alltypes_shape *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_ints(struct kg_call *call, const struct kg_list_i32 *l,
			     struct kg_list_i32 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_strings(struct kg_call *call, const struct kg_set_string *s,
				struct kg_set_string *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_points(struct kg_call *call, const struct kg_map_string_alltypes_point *m,
			       struct kg_map_string_alltypes_point *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_nested(struct kg_call *call, const struct kg_map_i32_list_map_string_i32 *n,
			       struct kg_map_i32_list_map_string_i32 *result)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_many(struct kg_call *call, s32 a, struct kg_bytes b,
			     const struct alltypes_point *c, const struct kg_list_i32 *d, s64 int_,
			     s32 *result, struct alltypes_oops *oops, struct alltypes_worse *worse)
{
	return -EOPNOTSUPP;
}

int alltypes_everything_fire(struct kg_call *call, struct kg_bytes event, s32 call_)
{
	return -EOPNOTSUPP;
}
