// SPDX-License-Identifier: GPL-2.0
/*
 * Parameters into a server config (see params.h): one place for the
 * checks every generated module used to carry.
 */
#include <kgen/params.h>

#ifdef __KERNEL__
#define kg_param_err(fmt, ...)	pr_err(fmt, ##__VA_ARGS__)
#else
#include <limits.h>
#define kg_param_err(fmt, ...)	fprintf(stderr, fmt, ##__VA_ARGS__)
#endif

static void kg_param_store(struct kg_server_config *cfg, const struct kg_param *p, u32 v)
{
	void *member = (u8 *)cfg + p->offset;

	switch (p->size) {
	case 1:
		*(u8 *)member = (u8)v;
		break;
	case 2:
		*(u16 *)member = (u16)v;
		break;
	default:
		*(u32 *)member = v;
		break;
	}
}

static int kg_param_choice(struct kg_server_config *cfg, const struct kg_param *p)
{
	const char *text = *(char **)p->value;
	char names[80];
	size_t len = 0;
	u32 i;

	for (i = 0; i < p->nchoices; i++) {
		if (text && !strcmp(text, p->choices[i].name)) {
			kg_param_store(cfg, p, p->choices[i].value);
			return 0;
		}
	}
	names[0] = '\0';
	for (i = 0; i < p->nchoices && len < sizeof(names); i++)
		len += snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
				p->choices[i].name);
	kg_param_err("unknown %s \"%s\" (%s)\n", p->name, text ? text : "", names);
	return -EINVAL;
}

int kg_params_config(struct kg_server_config *cfg, const struct kg_param *params, size_t n)
{
	size_t i;

	kg_server_config_defaults(cfg);
	for (i = 0; i < n; i++) {
		const struct kg_param *p = &params[i];
		unsigned int v;

		switch (p->kind) {
		case KG_PARAM_STRING:
			*(const char **)((u8 *)cfg + p->offset) = *(char **)p->value;
			break;
		case KG_PARAM_CHOICE:
			if (kg_param_choice(cfg, p))
				return -EINVAL;
			break;
		default:
			v = *(unsigned int *)p->value;
			if (v > p->max) {
				kg_param_err("%s %u out of range (at most %u)\n",
					     p->name, v, p->max);
				return -EINVAL;
			}
			if (v || p->kind == KG_PARAM_UINT)
				kg_param_store(cfg, p, v);
			break;
		}
	}
	return 0;
}

#ifndef __KERNEL__
int kg_param_parse(const struct kg_param *p, const char *flag, char *text)
{
	unsigned long v;
	char *end;

	if (p->kind == KG_PARAM_STRING || p->kind == KG_PARAM_CHOICE) {
		*(char **)p->value = text;
		return 0;
	}
	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || end == text || *end || v > UINT_MAX || text[0] == '-') {
		fprintf(stderr, "--%s: not a number: %s\n", flag, text);
		return -EINVAL;
	}
	if (v > p->max) {
		fprintf(stderr, "--%s: %lu out of range (at most %u)\n", flag, v, p->max);
		return -EINVAL;
	}
	*(unsigned int *)p->value = (unsigned int)v;
	return 0;
}
#endif
