// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny RPC service decoded by hand (no generated code), to test real
 * replies end to end:
 *
 *   service Calc {
 *     i32 add(1: i32 a, 2: i32 b)
 *     void ping()
 *     oneway void note(1: i32 x)
 *     string echo(1: string s)    // testString-like: big replies
 *   }
 *
 * Replies are written by kg_call_reply() (counting pass, then encoded in
 * place in the send buffer); unknown methods get UNKNOWN_METHOD; arguments
 * that do not decode are left to the server (PROTOCOL_ERROR).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": calc: " fmt

#include "testsvc.h"

struct kg_calc_args {
	s32 a, b;
	bool has_a, has_b;
};

/* Read an argument (or result) struct of i32 fields 0..2, skipping others. */
int kg_calc_read_i32s(struct kg_reader *r, s32 *vals, bool *present, int n)
{
	s16 id;
	u8 type;
	int err;

	err = kg_read_struct_begin(r);
	while (!err) {
		err = kg_read_field_begin(r, &type, &id);
		if (err || type == KG_T_STOP)
			break;
		if (type == KG_T_I32 && id >= 0 && id < n) {
			err = kg_read_i32(r, &vals[id]);
			present[id] = true;
		} else {
			err = kg_skip(r, type);
		}
		if (!err)
			err = kg_read_field_end(r);
	}
	if (!err)
		err = kg_read_struct_end(r);
	if (!err)
		err = kg_read_message_end(r);
	return err;
}

static int kg_calc_encode_i32_result(struct kg_writer *w, const void *value)
{
	kg_write_struct_begin(w);
	if (value) {
		kg_write_field_begin(w, KG_T_I32, 0);
		kg_write_i32(w, *(const s32 *)value);
		kg_write_field_end(w);
	}
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	return 0;
}

/* echo's argument struct: field 1, a string (pointing into the message). */
static int kg_calc_read_string(struct kg_reader *r, struct kg_bytes *v)
{
	s16 id;
	u8 type;
	int err;

	err = kg_read_struct_begin(r);
	while (!err) {
		err = kg_read_field_begin(r, &type, &id);
		if (err || type == KG_T_STOP)
			break;
		if (type == KG_T_STRING && id == 1)
			err = kg_read_string(r, v);
		else
			err = kg_skip(r, type);
		if (!err)
			err = kg_read_field_end(r);
	}
	if (!err)
		err = kg_read_struct_end(r);
	if (!err)
		err = kg_read_message_end(r);
	return err;
}

static int kg_calc_encode_string_result(struct kg_writer *w, const void *value)
{
	const struct kg_bytes *v = value;

	kg_write_struct_begin(w);
	kg_write_field_begin(w, KG_T_STRING, 0);
	kg_write_binary(w, v->data, v->len);
	kg_write_field_end(w);
	kg_write_field_stop(w);
	kg_write_struct_end(w);
	return 0;
}

static bool kg_calc_is(const struct kg_call *call, const char *name)
{
	size_t len = strlen(name);

	return call->method.len == len && !memcmp(call->method.data, name, len);
}

static int kg_calc_process(struct kg_call *call)
{
	s32 vals[3] = { 0 };
	bool present[3] = { false };
	s32 sum;
	int err;

	if (kg_calc_is(call, "add")) {
		err = kg_calc_read_i32s(call->in, vals, present, 3);
		if (err)
			return err;
		if (!present[1] || !present[2])
			return kg_call_reply_app_exception(call, KG_APPEX_PROTOCOL_ERROR,
							   "add: missing argument");
		/* Thrift i32 wraps; do it without signed overflow. */
		sum = (s32)((u32)vals[1] + (u32)vals[2]);
		return kg_call_reply(call, KG_MSG_REPLY, kg_calc_encode_i32_result, &sum);
	}
	if (kg_calc_is(call, "ping")) {
		err = kg_calc_read_i32s(call->in, vals, present, 3);
		if (err)
			return err;
		return kg_call_reply(call, KG_MSG_REPLY, kg_calc_encode_i32_result, NULL);
	}
	if (kg_calc_is(call, "echo")) {
		struct kg_bytes v = { NULL, 0 };

		err = kg_calc_read_string(call->in, &v);
		if (err)
			return err;
		return kg_call_reply(call, KG_MSG_REPLY, kg_calc_encode_string_result, &v);
	}
	if (kg_calc_is(call, "note"))
		return kg_calc_read_i32s(call->in, vals, present, 3);
	return kg_call_reply_app_exception(call, KG_APPEX_UNKNOWN_METHOD, "unknown method");
}

const struct kg_service kg_calc_service = {
	.name = "calc",
	.process = kg_calc_process,
};
