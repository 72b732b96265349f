/* TEMPORARY: until the multi-resource exporter lands. Not committed. */
#include "exporter.h"
int tvn_exporter__add_resource(struct tvn_exporter *e, const struct tvn_otlp_resource *res)
{
	(void)e;
	(void)res;
	return -1;
}
void tvn_exporter__drop_resource(struct tvn_exporter *e, int id)
{
	(void)e;
	(void)id;
}
void tvn_exporter__add_span_to(struct tvn_exporter *e, int id, const struct tvn_otlp_span *s)
{
	(void)e;
	(void)id;
	(void)s;
}
void tvn_exporter__push_metrics_many(struct tvn_exporter *e, const int *ids,
				     const struct tvn_snapshot *const *snaps, int n, uint64_t a,
				     uint64_t b)
{
	(void)e;
	(void)ids;
	(void)snaps;
	(void)n;
	(void)a;
	(void)b;
}
