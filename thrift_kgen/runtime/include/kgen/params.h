/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The server's settings as named parameters: module parameters in the
 * kernel, flags (--max-conns, '-' for '_') in user space. Generated glue
 * holds the variables and one table of struct kg_param pointing at them
 * (made from thrift_kgen/codegen/params.py, the one list of parameters);
 * kg_params_config() turns the table into a struct kg_server_config, the
 * same way in both builds (runtime/core/params.c).
 */
#ifndef _KGEN_PARAMS_H
#define _KGEN_PARAMS_H

#include "server.h"

enum kg_param_kind {
	KG_PARAM_UINT,		/* unsigned int, at most @max */
	KG_PARAM_UINT_OR_DEFAULT, /* the same; 0 keeps the runtime's default */
	KG_PARAM_STRING,	/* char * */
	KG_PARAM_CHOICE,	/* char *, one of @choices */
};

/* One value of a choice parameter and what the config gets for it. */
struct kg_param_choice {
	const char *name;
	u32 value;
};

struct kg_param {
	const char *name;
	u8 kind;		/* enum kg_param_kind */
	u8 size;		/* of the config member: 1, 2 or 4 bytes (uint, choice) */
	size_t offset;		/* of the member in struct kg_server_config */
	u32 max;		/* uint: the largest value */
	void *value;		/* the variable: unsigned int * or char ** */
	const struct kg_param_choice *choices;
	u32 nchoices;
	const char *help;
};

#define KG_PARAM_MEMBER(member)						\
	.size = sizeof(((struct kg_server_config *)NULL)->member),		\
	.offset = offsetof(struct kg_server_config, member)

#define KG_PARAM_UINT_ROW(name_, var, member, kind_, max_, help_)		\
	{ .name = (name_), .kind = (kind_), KG_PARAM_MEMBER(member), .max = (max_),	\
	  .value = &(var), .help = (help_) }
#define KG_PARAM_STRING_ROW(name_, var, member, help_)				\
	{ .name = (name_), .kind = KG_PARAM_STRING, KG_PARAM_MEMBER(member),		\
	  .value = &(var), .help = (help_) }
#define KG_PARAM_CHOICE_ROW(name_, var, member, choices_, help_)		\
	{ .name = (name_), .kind = KG_PARAM_CHOICE, KG_PARAM_MEMBER(member),		\
	  .value = &(var), .choices = (choices_), .nchoices = ARRAY_SIZE(choices_),	\
	  .help = (help_) }

/*
 * kg_server_config_defaults(), then every parameter of @params. Return: 0,
 * or -EINVAL after saying which value is wrong (pr_err(); stderr in user
 * space).
 */
int kg_params_config(struct kg_server_config *cfg, const struct kg_param *params, size_t n);

/* User space: set a parameter from the text of its --@flag. 0 or -EINVAL (said on stderr). */
int kg_param_parse(const struct kg_param *p, const char *flag, char *text);

#endif /* _KGEN_PARAMS_H */
