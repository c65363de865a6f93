// SPDX-License-Identifier: GPL-2.0
/*
 * Handlers for service Leaf (derived.thrift).
 *
 * Written once by thrift-kgen as a starting point: this file is yours, and
 * thrift-kgen never overwrites it. Every handler below returns -EOPNOTSUPP,
 * which clients see as an INTERNAL_ERROR "not implemented"; the handler API
 * is documented in the service headers.
 */
#include "derived_module.h"

/**
 * derived_handler_init() - set up the handlers' state
 * @data: the state every handler finds in &kg_call.service_data
 *
 * Return: 0, or a negative errno to refuse to start.
 */
int derived_handler_init(void **data)
{
	*data = NULL;
	return 0;
}

/**
 * derived_handler_exit() - release the handlers' state
 * @data: what derived_handler_init() set
 */
void derived_handler_exit(void *data)
{
}

/* ---- SharedService ---- */

int shared_shared_service_get_struct(struct kg_call *call, s32 key,
				     struct shared_shared_struct *result)
{
	return -EOPNOTSUPP;
}

int shared_shared_service_ping(struct kg_call *call)
{
	return -EOPNOTSUPP;
}

/* ---- Derived ---- */

int derived_derived_put(struct kg_call *call, const struct shared_shared_struct *s,
			struct derived_not_found *nf)
{
	return -EOPNOTSUPP;
}

int derived_derived_all(struct kg_call *call, struct kg_list_shared_shared_struct *result)
{
	return -EOPNOTSUPP;
}

/* ---- Leaf ---- */

int derived_leaf_count(struct kg_call *call, s64 *result)
{
	return -EOPNOTSUPP;
}
