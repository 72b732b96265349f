// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rows of text cells, printed aligned for a terminal (pretty) or as a
 * GitHub table (markdown); and the text escapes both need.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

void tvn_bench_table__init(struct tvn_bench_table *t, const char *const *head, const char *align,
			   int ncols)
{
	memset(t, 0, sizeof(*t));
	t->head = head;
	t->align = align;
	t->ncols = ncols;
	t->show_head = true;
}

void tvn_bench_table__free(struct tvn_bench_table *t)
{
	free(t->cells);
	free(t->mark);
	t->cells = NULL;
	t->mark = NULL;
}

tvn_bench_cell *tvn_bench_table__row(struct tvn_bench_table *t, bool mark)
{
	tvn_bench_cell *row;

	if (t->nrows == t->cap) {
		int cap = t->cap ? 2 * t->cap : 8;
		tvn_bench_cell *cells =
		    realloc(t->cells, (size_t)cap * t->ncols * sizeof(tvn_bench_cell));
		bool *marks;

		if (!cells)
			goto oom;
		t->cells = cells;
		marks = realloc(t->mark, (size_t)cap * sizeof(bool));
		if (!marks)
			goto oom;
		t->mark = marks;
		t->cap = cap;
	}
	row = &t->cells[(size_t)t->nrows * t->ncols];
	memset(row, 0, (size_t)t->ncols * sizeof(tvn_bench_cell));
	t->mark[t->nrows++] = mark;
	t->has_marks |= mark;
	return row;
oom:
	t->oom = true;
	return NULL;
}

void tvn_bench_table__add_rows(struct tvn_bench_table *t, int n, int mark, tvn_bench_row_fn fill,
			       const void *ctx)
{
	for (int i = 0; i < n; i++) {
		tvn_bench_cell *row = tvn_bench_table__row(t, i == mark);

		if (!row)
			return;
		fill(row, ctx, i);
	}
}

/* ------------------------------------------------------------ pretty */

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void put_padded(FILE *out, const char *s, int width, char align, bool last)
{
	int pad = width - text_width(s);

	if (align == 'r')
		fprintf(out, "%*s%s", pad > 0 ? pad : 0, "", s);
	else if (last)
		fputs(s, out);
	else
		fprintf(out, "%s%*s", s, pad > 0 ? pad : 0, "");
}

static void print_line(const struct tvn_bench_table *t, FILE *out, const char *indent,
		       const int *width, const char *const *cells, bool mark)
{
	int last = t->ncols - 1;

	while (last > 0 && !cells[last][0]) /* no trailing blanks */
		last--;
	fputs(indent, out);
	if (t->has_marks)
		fputs(mark ? "* " : "  ", out);
	for (int c = 0; c <= last; c++) {
		if (c)
			fputs("  ", out);
		put_padded(out, cells[c], width[c], t->align[c], c == last);
	}
	fputc('\n', out);
}

/* The width of each column: its widest cell, and its head where that shows. */
static void column_widths(const struct tvn_bench_table *t, int *width)
{
	for (int c = 0; c < t->ncols; c++) {
		if (t->show_head)
			width[c] = text_width(t->head[c]);
		for (int r = 0; r < t->nrows; r++) {
			int w = text_width(t->cells[(size_t)r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
}

static int print_pretty(const struct tvn_bench_table *t, FILE *out, const char *indent)
{
	const char **cells;
	int *width;

	width = calloc((size_t)t->ncols, sizeof(*width));
	cells = calloc((size_t)t->ncols, sizeof(*cells));
	if (!width || !cells) {
		free(width);
		free(cells);
		return -ENOMEM;
	}
	column_widths(t, width);
	if (t->show_head)
		print_line(t, out, indent, width, t->head, false);
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			cells[c] = t->cells[(size_t)r * t->ncols + c];
		print_line(t, out, indent, width, cells, t->mark[r]);
	}
	free(width);
	free(cells);
	return 0;
}

/* ------------------------------------------------------------ markdown */

/* A table cell: '|' would end it, a newline would end the table. */
static void put_md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static void print_md(const struct tvn_bench_table *t, FILE *out)
{
	for (int c = 0; c < t->ncols; c++) {
		fputs("| ", out);
		put_md_cell(out, t->head[c]);
		fputc(' ', out);
	}
	fputs("|\n", out);
	for (int c = 0; c < t->ncols; c++)
		fputs(t->align[c] == 'r' ? "|---:" : "|---", out);
	fputs("|\n", out);
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			bool bold = c == 0 && t->mark[r];

			fputs(bold ? "| **" : "| ", out);
			put_md_cell(out, t->cells[(size_t)r * t->ncols + c]);
			fputs(bold ? "** " : " ", out);
		}
		fputs("|\n", out);
	}
	fputc('\n', out);
}

int tvn_bench_table__flush(struct tvn_bench_table *t, FILE *out, enum tvn_bench_format f,
			   const char *indent)
{
	int err = 0;

	if (t->oom)
		err = -ENOMEM;
	else if (f == TVN_BENCH_MARKDOWN)
		print_md(t, out);
	else
		err = print_pretty(t, out, indent);
	tvn_bench_table__free(t);
	return err;
}

/* ------------------------------------------------------------ text */

/* Control characters of a command line would garble the terminal: '?' for them. */
static void put_sanitized(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* s as a Markdown code span: a fence longer than any run of backticks in s. */
static void put_md_code(FILE *out, const char *s)
{
	int run = 0, longest = 0;
	size_t n = strlen(s);
	bool pad;

	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	pad = n && (s[0] == '`' || s[n - 1] == '`');
	for (int i = 0; i <= longest; i++)
		fputc('`', out);
	if (pad)
		fputc(' ', out);
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	if (pad)
		fputc(' ', out);
	for (int i = 0; i <= longest; i++)
		fputc('`', out);
}

void tvn_bench_text__put_target(FILE *out, enum tvn_bench_format f, const char *target)
{
	if (f == TVN_BENCH_MARKDOWN)
		put_md_code(out, target);
	else
		put_sanitized(out, target);
}
