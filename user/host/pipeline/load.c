// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pipeline files (docs/pipeline-format.md): parsed with jansson, validated
 * in full, and every problem reported as
 * "FILE:LINE: FIELD: what is wrong (what would be right)". This file reads
 * the file and its flows with their streams; load_comp.c reads components,
 * topology.c checks how streams join them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline_internal.h"

#define MAX_FILE_SIZE (4 << 20) /* a pipeline file is a few KiB */
#define MAX_CAPACITY 65536
#define MAX_REPLICAS 256
#define DEF_CAPACITY 64
#define DEF_LOW_WATERMARK 0.5

/* ------------------------------------------------------------ vocabularies */

static const struct tvn_sym policy_syms[] = {
    {"block-producer", TORVYN_POLICY_BLOCK_PRODUCER},
    {"drop-oldest", TORVYN_POLICY_DROP_OLDEST},
    {"drop-newest", TORVYN_POLICY_DROP_NEWEST},
    {"error", TORVYN_POLICY_ERROR},
    {NULL, 0},
};

static const struct tvn_sym error_policy_syms[] = {
    {"skip", TVN_ERROR_POLICY_SKIP},
    {"fail", TVN_ERROR_POLICY_FAIL},
    {NULL, 0},
};

static const char *const top_keys[] = {"flows", NULL};
static const char *const flow_keys[] = {"id",	      "error_policy", "replicas", "queue",
					"components", "streams",      NULL};
static const char *const queue_keys[] = {"capacity", "low_watermark", "policy", NULL};
static const char *const stream_keys[] = {"id",	    "from", "to", "capacity", "low_watermark",
					  "policy", NULL};

static bool watermark_ok(double v)
{
	return v >= 0 && v < 1;
}

/* ---------------------------------------------------------------- streams */

static int queue_fields(struct tvn_doc *doc, json_t *obj, struct tvn_stream_cfg *s)
{
	long long cap;
	int policy, err;

	err = tvn_doc__get_int(doc, obj, "capacity", false, 1, MAX_CAPACITY,
			       "an integer from 1 to 65536", &cap);
	if (err < 0)
		return err;
	if (!err)
		s->capacity = cap;
	err = tvn_doc__get_num(doc, obj, "low_watermark", false, watermark_ok,
			       "a number >= 0 and < 1: a fraction of the capacity",
			       &s->low_watermark);
	if (err < 0)
		return err;
	err = tvn_doc__get_sym(doc, obj, "policy", false, "policy", policy_syms, &policy);
	if (err < 0)
		return err;
	if (!err)
		s->policy = policy;
	return 0;
}

static int parse_queue(struct tvn_doc *doc, json_t *jf, struct tvn_stream_cfg *def)
{
	json_t *jq = json_object_get(jf, "queue");
	int err;

	if (!jq)
		return 0;
	tvn_doc__push_key(doc, "queue");
	err = tvn_doc__need_keys(doc, jq,
				 "an object {\"capacity\": ..., \"low_watermark\": ..., "
				 "\"policy\": ...}",
				 queue_keys);
	if (!err)
		err = queue_fields(doc, jq, def);
	tvn_doc__pop(doc);
	return err;
}

/* "<from>-><to>", cut to fit TORVYN_NAME_LEN. */
static void default_stream_id(char *dst, const char *from, const char *to)
{
	char buf[2 * TORVYN_NAME_LEN + 4];

	snprintf(buf, sizeof(buf), "%s->%s", from, to);
	memcpy(dst, buf, TVN_ID_MAX);
	dst[TVN_ID_MAX] = '\0';
}

static int comp_ref(struct tvn_doc *doc, json_t *js, const char *key, const struct tvn_flow_cfg *f,
		    int *out)
{
	char list[TORVYN_MAX_COMPONENTS * (TORVYN_NAME_LEN + 2)], q[96];
	const char *name;
	size_t off = 0;
	int err;

	err = tvn_doc__get_str(doc, js, key, true, "the id of a component of this flow", &name);
	if (err)
		return err;
	for (int i = 0; i < f->n_comps; i++) {
		if (!strcmp(f->comps[i].id, name)) {
			*out = i;
			return 0;
		}
		off +=
		    snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", f->comps[i].id);
	}
	return tvn_doc__fail_key(doc, key, "no component %s in this flow (expected one of: %s)",
				 tvn_json__quote(name, q, sizeof(q)), list);
}

static int parse_stream(struct tvn_doc *doc, json_t *js, const struct tvn_flow_cfg *f,
			const struct tvn_stream_cfg *def, struct tvn_stream_cfg *s)
{
	int err;

	*s = *def;
	err = tvn_doc__need_keys(doc, js, "an object {\"from\": ..., \"to\": ...}", stream_keys);
	if (!err)
		err = comp_ref(doc, js, "from", f, &s->from);
	if (!err)
		err = comp_ref(doc, js, "to", f, &s->to);
	if (!err)
		err = queue_fields(doc, js, s);
	if (!err)
		err = tvn_doc__get_id(doc, js, "id", false, true, s->id);
	if (err == 1)
		default_stream_id(s->id, f->comps[s->from].id, f->comps[s->to].id);
	return err < 0 ? err : 0;
}

static int parse_streams(struct tvn_doc *doc, json_t *ja, struct tvn_flow_cfg *f,
			 const struct tvn_stream_cfg *def)
{
	size_t n = json_array_size(ja);
	int err = 0;

	tvn_doc__push_key(doc, "streams");
	if (!json_is_array(ja))
		err = tvn_doc__fail(doc, "expected an array of 1 to %d streams (got %s)",
				    TORVYN_MAX_STREAMS, tvn_json__type_name(ja));
	else if (n < 1 || n > TORVYN_MAX_STREAMS)
		err = tvn_doc__fail(
		    doc,
		    "has %zu (expected 1 to %d streams, or no \"streams\" to chain the "
		    "components in order)",
		    n, TORVYN_MAX_STREAMS);
	for (size_t k = 0; !err && k < n; k++) {
		tvn_doc__push_idx(doc, k);
		err = parse_stream(doc, json_array_get(ja, k), f, def, &f->streams[k]);
		tvn_doc__pop(doc);
	}
	f->n_streams = err ? 0 : n;
	tvn_doc__pop(doc);
	return err;
}

/* Without "streams": component i feeds i + 1, from one source to one sink. */
static int chain_streams(struct tvn_doc *doc, struct tvn_flow_cfg *f,
			 const struct tvn_stream_cfg *def)
{
	static const char hint[] = "without \"streams\" the components are chained in order";
	int last = f->n_comps - 1, err = 0;

	tvn_doc__push_key(doc, "components");
	for (int i = 0; !err && i <= last; i++) {
		uint32_t role = f->comps[i].role;
		const char *name = tvn_sym__name(tvn_role_syms, role);

		tvn_doc__push_idx(doc, i);
		if (i == 0 && role != TORVYN_ROLE_SOURCE)
			err = tvn_doc__fail_key(
			    doc, "role", "the first component is a %s (expected a source: %s)",
			    name, hint);
		else if (i == last && role != TORVYN_ROLE_SINK)
			err = tvn_doc__fail_key(doc, "role",
						"the last component is a %s (expected a sink: %s)",
						name, hint);
		else if (i && i < last && role != TORVYN_ROLE_PROCESSOR &&
			 role != TORVYN_ROLE_FILTER)
			err =
			    tvn_doc__fail_key(doc, "role",
					      "a %s in the middle of a chain (expected a processor "
					      "or a filter: %s; add \"streams\" for other shapes)",
					      name, hint);
		tvn_doc__pop(doc);
	}
	tvn_doc__pop(doc);
	if (err)
		return err;
	for (int i = 0; i < last; i++) {
		f->streams[i] = *def;
		f->streams[i].from = i;
		f->streams[i].to = i + 1;
		default_stream_id(f->streams[i].id, f->comps[i].id, f->comps[i + 1].id);
	}
	f->n_streams = last;
	return 0;
}
/* ------------------------------------------------------------------ flows */

static int parse_flow(struct tvn_doc *doc, json_t *jf, struct tvn_flow_cfg *f, long long *replicas)
{
	struct tvn_stream_cfg def = {
	    .capacity = DEF_CAPACITY,
	    .low_watermark = DEF_LOW_WATERMARK,
	    .policy = TORVYN_POLICY_BLOCK_PRODUCER,
	};
	json_t *js;
	int err;

	*replicas = 1;
	f->error_policy = TVN_ERROR_POLICY_SKIP;
	err = tvn_doc__need_keys(doc, jf, "an object {\"id\": ..., \"components\": [...]}",
				 flow_keys);
	if (!err)
		err = tvn_doc__get_id(doc, jf, "id", true, false, f->id);
	if (!err && tvn_doc__get_sym(doc, jf, "error_policy", false, "error policy",
				     error_policy_syms, &f->error_policy) < 0)
		err = -EINVAL;
	if (!err && tvn_doc__get_int(doc, jf, "replicas", false, 1, MAX_REPLICAS,
				     "an integer from 1 to 256", replicas) < 0)
		err = -EINVAL;
	if (!err)
		err = parse_queue(doc, jf, &def);
	if (!err)
		err = tvn_flow_cfg__parse_components(doc, jf, f);
	if (err)
		return err;
	js = json_object_get(jf, "streams");
	err = js ? parse_streams(doc, js, f, &def) : chain_streams(doc, f, &def);
	if (!err)
		err = tvn_flow_cfg__check_topology(doc, f);
	return err;
}

static int digits(long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* Appends f, replicas times, to cfg; ja is the "flows" array for earlier ids. */
static int add_flow(struct tvn_doc *doc, struct tvn_pipeline_cfg *cfg, const struct tvn_flow_cfg *f,
		    long long replicas, json_t *ja, size_t idx, int *src)
{
	char id[TORVYN_NAME_LEN + 16];
	struct tvn_flow_cfg *flows;
	size_t len = strlen(f->id);
	int n = cfg->n_flows;

	for (size_t j = 0; j < idx; j++)
		if (!strcmp(f->id, json_string_value(json_object_get(json_array_get(ja, j), "id"))))
			return tvn_doc__fail_key(
			    doc, "id", "duplicate flow id \"%s\" (already used by flows[%zu])",
			    f->id, j);
	if (n + replicas > TORVYN_MAX_FLOWS)
		return tvn_doc__fail_key(doc, "replicas",
					 "%lld flows after replica expansion (expected at "
					 "most %d in a file)",
					 n + replicas, TORVYN_MAX_FLOWS);
	if (replicas > 1 && len + 1 + digits(replicas - 1) > TVN_ID_MAX)
		return tvn_doc__fail_key(
		    doc, "id",
		    "\"%s\" is too long for %lld replicas: \"%s-%lld\" has %zu "
		    "characters (expected at most %d)",
		    f->id, replicas, f->id, replicas - 1, len + 1 + digits(replicas - 1),
		    TVN_ID_MAX);
	flows = realloc(cfg->flows, (n + replicas) * sizeof(*flows));
	if (!flows)
		return -ENOMEM;
	cfg->flows = flows;
	for (int r = 0; r < replicas; r++) {
		snprintf(id, sizeof(id), replicas > 1 ? "%s-%d" : "%s", f->id, r);
		for (int j = 0; j < cfg->n_flows; j++)
			if (!strcmp(id, flows[j].id))
				return tvn_doc__fail_key(
				    doc, "id",
				    "flow id \"%s\" after replica expansion is "
				    "already used by flows[%d] (expected "
				    "distinct flow ids)",
				    id, src[j]);
		flows[cfg->n_flows] = *f;
		memcpy(flows[cfg->n_flows].id, id, TORVYN_NAME_LEN);
		src[cfg->n_flows++] = idx;
	}
	return 0;
}

static int parse_flows(struct tvn_doc *doc, json_t *ja, struct tvn_pipeline_cfg *cfg)
{
	int src[TORVYN_MAX_FLOWS];
	struct tvn_flow_cfg *f;
	long long replicas;
	size_t n = json_array_size(ja);
	int err = 0;

	if (!json_is_array(ja))
		return tvn_doc__fail(doc, "expected an array of 1 to %d flows (got %s)",
				     TORVYN_MAX_FLOWS, tvn_json__type_name(ja));
	if (n < 1 || n > TORVYN_MAX_FLOWS)
		return tvn_doc__fail(doc, "has %zu (expected 1 to %d flows)", n, TORVYN_MAX_FLOWS);
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; !err && i < n; i++) {
		memset(f, 0, sizeof(*f));
		tvn_doc__push_idx(doc, i);
		err = parse_flow(doc, json_array_get(ja, i), f, &replicas);
		if (!err)
			err = add_flow(doc, cfg, f, replicas, ja, i, src);
		tvn_doc__pop(doc);
	}
	free(f);
	return err;
}

static int parse_pipeline(struct tvn_doc *doc, json_t *root, struct tvn_pipeline_cfg *cfg)
{
	json_t *ja;
	int err;

	err = tvn_doc__need_keys(doc, root, "an object {\"flows\": [...]}", top_keys);
	if (!err)
		err = tvn_doc__get(doc, root, "flows", true, "an array of 1 to 256 flows", &ja);
	if (err)
		return err;
	tvn_doc__push_key(doc, "flows");
	err = parse_flows(doc, ja, cfg);
	tvn_doc__pop(doc);
	return err;
}

static int read_all(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *p;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || n == cap) {
			cap = buf ? cap * 2 : cap;
			p = cap > MAX_FILE_SIZE ? NULL : realloc(buf, cap);
			if (!p) {
				err = cap > MAX_FILE_SIZE ? -EFBIG : -ENOMEM;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		n += r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The text in doc, parsed as JSON, into cfg; cfg is left empty on error. */
static int parse_text(struct tvn_doc *doc, struct tvn_pipeline_cfg *cfg)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_loadb(doc->text, doc->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		/* jansson quotes the file's bytes: the message stays one printable line */
		for (char *c = jerr.text; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		if (doc->err && doc->errlen)
			snprintf(doc->err, doc->errlen, "%s:%d:%d: invalid JSON: %s", doc->file,
				 jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	ret = parse_pipeline(doc, root, cfg);
	json_decref(root);
	if (ret)
		tvn_pipeline__free(cfg);
	return ret;
}

int tvn_pipeline__load(const char *path, struct tvn_pipeline_cfg *cfg, char *err, size_t errlen)
{
	struct tvn_doc doc = {.file = path, .err = err, .errlen = errlen};
	char *text = NULL;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !cfg)
		return -EINVAL;
	*cfg = (struct tvn_pipeline_cfg){0};
	ret = read_all(path, &text, &doc.len);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	doc.text = text;
	ret = parse_text(&doc, cfg);
	free(text);
	return ret;
}

void tvn_pipeline__free(struct tvn_pipeline_cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->flows);
	*cfg = (struct tvn_pipeline_cfg){0};
}
