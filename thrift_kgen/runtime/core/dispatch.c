// SPDX-License-Identifier: GPL-2.0
/*
 * Method and service lookup, and the error replies of generated services
 * (see dispatch.h).
 */
#include <kgen/dispatch.h>

/* Bytewise, a shorter name first on a tie (the order the generator sorts in). */
static int kg_name_cmp(const u8 *name, u32 len, const struct kg_name *e)
{
	int c = memcmp(name, e->name, min(len, e->len));

	if (c)
		return c;
	return len < e->len ? -1 : len > e->len;
}

/*
 * Binary search over rows of @size bytes, each starting with a struct
 * kg_name. Return: the row, or NULL.
 */
static const void *kg_lookup(const void *table, size_t n, size_t size, const u8 *name, u32 len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const void *row = (const u8 *)table + mid * size;
		int c = kg_name_cmp(name, len, row);

		if (!c)
			return row;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int kg_dispatch(struct kg_call *call, const struct kg_method *table, size_t n,
		const void *ops)
{
	const struct kg_method *m = kg_lookup(table, n, sizeof(*table), call->method.data,
					      call->method.len);

	return m ? m->process(call, ops) : KG_DISPATCH_UNKNOWN;
}

int kg_reply_not_request(struct kg_call *call, const char *service)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "%s: expected a CALL or ONEWAY message", service);
	return kg_call_reply_app_exception(call, KG_APPEX_INVALID_MESSAGE_TYPE, msg);
}

int kg_reply_unknown_method(struct kg_call *call)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "Invalid method name: '%.*s'",
		 (int)min_t(u32, call->method.len, 64), (const char *)call->method.data);
	return kg_call_reply_app_exception(call, KG_APPEX_UNKNOWN_METHOD, msg);
}

int kg_mux_process(struct kg_call *call, const struct kg_mux_service *table, size_t n,
		   int (*plain)(struct kg_call *call))
{
	const u8 *colon = call->method.len ?
			  memchr(call->method.data, ':', call->method.len) : NULL;
	const struct kg_mux_service *s;
	u32 len;

	if (!colon)
		return plain(call);
	len = (u32)(colon - call->method.data);
	s = kg_lookup(table, n, sizeof(*table), call->method.data, len);
	if (!s)
		return kg_call_reply_app_exception(call, KG_APPEX_UNKNOWN_METHOD,
						   "unknown service");
	call->method.data = colon + 1;
	call->method.len -= len + 1;
	return s->process(call);
}

int kg_reply_bad_args(struct kg_call *call, int err)
{
	switch (err) {
	case -ENOMEM:
		return kg_call_reply_app_exception(call, KG_APPEX_INTERNAL_ERROR,
						   "arguments too large for the arena");
	case -EMSGSIZE:
		return kg_call_reply_app_exception(call, KG_APPEX_PROTOCOL_ERROR,
						   "arguments exceed a size limit");
	case -EBADMSG:
	case -ENODATA:
	case -EINVAL:
	case -EPROTO:
		return kg_call_reply_app_exception(call, KG_APPEX_PROTOCOL_ERROR,
						   "malformed arguments");
	default:
		return err < 0 ? err : -EBADMSG;
	}
}

int kg_reply_handler_error(struct kg_call *call, int err)
{
	char msg[64];

	if (err == -EOPNOTSUPP)
		return kg_call_reply_app_exception(call, KG_APPEX_INTERNAL_ERROR,
						   "not implemented");
	snprintf(msg, sizeof(msg), "handler failed: error %d", err);
	return kg_call_reply_app_exception(call, KG_APPEX_INTERNAL_ERROR, msg);
}

int kg_reply_undeclared(struct kg_call *call)
{
	return kg_call_reply_app_exception(call, KG_APPEX_INTERNAL_ERROR,
					   "handler returned an undeclared exception");
}

int kg_recv_app_exception(struct kg_reader *in)
{
	int ret = kg_skip(in, KG_T_STRUCT);

	return ret ? ret : -EREMOTEIO;
}
