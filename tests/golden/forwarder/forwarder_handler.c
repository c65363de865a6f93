// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers for service Forwarder (forwarder.thrift).
 *
 * Written once by thrift-kgen as a starting point: this file is yours, and
 * thrift-kgen never overwrites it. Every handler below returns -EOPNOTSUPP,
 * which clients see as an INTERNAL_ERROR "not implemented"; the handler API
 * is documented in the service headers.
 */
#include "forwarder_module.h"

/**
 * forwarder_handler_init() - set up the handlers' state
 * @data: the state every handler finds in &kg_call.service_data
 *
 * Return: 0, or a negative errno to refuse to start.
 */
int forwarder_handler_init(void **data)
{
	*data = NULL;
	return 0;
}

/**
 * forwarder_handler_exit() - release the handlers' state
 * @data: what forwarder_handler_init() set
 */
void forwarder_handler_exit(void *data)
{
}

/* ---- Forwarder ---- */

int forwarder_forwarder_msg(struct kg_call *call, s32 key, struct kg_bytes payload)
{
	return -EOPNOTSUPP;
}

int forwarder_forwarder_connect(struct kg_call *call,
				const struct kg_list_forwarder_backend *backends,
				struct forwarder_backend_error *err)
{
	return -EOPNOTSUPP;
}

int forwarder_forwarder_close_backends(struct kg_call *call)
{
	return -EOPNOTSUPP;
}

int forwarder_forwarder_stats(struct kg_call *call, struct forwarder_forwarder_stats *result)
{
	return -EOPNOTSUPP;
}
