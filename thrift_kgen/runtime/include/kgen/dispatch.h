/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every generated service shares: finding a service (multiplexed) or
 * a method by name in a sorted table, and the replies for calls that cannot
 * be served (bad arguments, failing handlers, unknown methods). A generated
 * service finds its methods itself (a switch on the name's length, then a
 * compare); the logic is here, once (runtime/core/dispatch.c).
 */
#ifndef _KGEN_DISPATCH_H
#define _KGEN_DISPATCH_H

#include "server.h"

/* What a service's dispatch() returns for a method it does not have. */
#define KG_DISPATCH_UNKNOWN	1

/* A name and its length, for a table row: KG_NAME("add"). */
struct kg_name {
	const char *name;
	u32 len;
};

#define KG_NAME(s)	{ s, sizeof(s) - 1 }

/*
 * One method of a service. @process decodes the arguments, calls the
 * handler in @ops (the service's ops table) and writes the reply.
 */
struct kg_method {
	struct kg_name name;
	int (*process)(struct kg_call *call, const void *ops);
};

/*
 * Run the method of @call found in @table (sorted bytewise by name, a
 * shorter name first on a tie). Return: KG_DISPATCH_UNKNOWN (nothing
 * written) or what the method's process() returned. (Generated services
 * switch on the name's length and compare instead; this is for tables.)
 */
int kg_dispatch(struct kg_call *call, const struct kg_method *table, size_t n,
		const void *ops);

/* A CALL or ONEWAY message: what a service's process() serves. */
static inline bool kg_call_is_request(const struct kg_call *call)
{
	return call->msg_type == KG_MSG_CALL || call->msg_type == KG_MSG_ONEWAY;
}

/* Anything else: INVALID_MESSAGE_TYPE, naming @service. */
int kg_reply_not_request(struct kg_call *call, const char *service);
/* UNKNOWN_METHOD naming call->method. */
int kg_reply_unknown_method(struct kg_call *call);

/* @ret of a dispatch(): UNKNOWN_METHOD for KG_DISPATCH_UNKNOWN, else @ret. */
static inline int kg_reply_if_unknown(struct kg_call *call, int ret)
{
	if (likely(ret != KG_DISPATCH_UNKNOWN))
		return ret;
	return kg_reply_unknown_method(call);
}

/* One service of a multiplexed module ("Service:method" names). */
struct kg_mux_service {
	struct kg_name name;
	int (*process)(struct kg_call *call);
};

/*
 * TMultiplexedProtocol: a method name "Service:method" goes to that service
 * of @table (sorted by name) with the prefix stripped; a plain name goes to
 * @plain (the default service), an unknown service gets UNKNOWN_METHOD.
 */
int kg_mux_process(struct kg_call *call, const struct kg_mux_service *table, size_t n,
		   int (*plain)(struct kg_call *call));

/* The arguments could not be decoded (@err): describe it if possible, else close. */
int kg_reply_bad_args(struct kg_call *call, int err);
/* A handler failed with the negative errno @err: INTERNAL_ERROR to the client. */
int kg_reply_handler_error(struct kg_call *call, int err);
/* A handler returned a positive value no exception of the method has. */
int kg_reply_undeclared(struct kg_call *call);
/* Client side: a TApplicationException reply; its fields skipped, -EREMOTEIO. */
int kg_recv_app_exception(struct kg_reader *in);

#endif /* _KGEN_DISPATCH_H */
