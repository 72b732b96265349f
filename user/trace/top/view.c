// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The live terminal view (ncurses): a frame every interval, drawn from the
 * same lines `top --once` prints; the selected flow is highlighted and kept
 * on screen. Keys switch the level of the selected flow's host through its
 * control socket. Nothing here prints to stderr while the screen is ours:
 * messages go to the status line.
 */
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "err.h"
#include "level.h"
#include "top.h"

#define FIXED_ROWS 2 /* the title and the heading stay; the status line is the last row */

struct view {
	struct tvn_top_source *src;
	struct tvn_top_view_opts o;
	struct tvn_top_frame cur;
	bool have;   /* cur holds a scrape */
	int sel;     /* the selected flow in cur, or -1 */
	int sel_pid; /* ...and who it is, to find it again in the next frame */
	char *sel_id;
	int top; /* the first scrolling line on screen */
	char status[700];
};

/* ------------------------------------------------------------ selection */

static void remember(struct view *v)
{
	const struct tvn_top_flow *fl = v->sel >= 0 ? &v->cur.flows[v->sel] : NULL;

	free(v->sel_id);
	v->sel_id = fl ? strdup(fl->id) : NULL;
	v->sel_pid = fl ? v->cur.targets[fl->target].pid : 0;
}

/* The remembered flow in the current frame; the first flow if it is gone. */
static void reselect(struct view *v)
{
	v->sel = v->cur.n_flows ? 0 : -1;
	for (int i = 0; v->sel_id && i < v->cur.n_flows; i++) {
		const struct tvn_top_flow *fl = &v->cur.flows[i];

		if (v->cur.targets[fl->target].pid == v->sel_pid && !strcmp(fl->id, v->sel_id)) {
			v->sel = i;
			return;
		}
	}
	remember(v);
}

static void move_sel(struct view *v, int by)
{
	if (v->sel < 0)
		return;
	v->sel += by;
	v->sel = v->sel < 0 ? 0 : v->sel >= v->cur.n_flows ? v->cur.n_flows - 1 : v->sel;
	remember(v);
}

/* ------------------------------------------------------------ frames */

static void refresh_frame(struct view *v)
{
	struct tvn_top_frame next;
	struct tvn_err e = {0};

	if (tvn_top_source__frame(v->src, &next, &e)) {
		snprintf(v->status, sizeof(v->status), "%s", e.msg);
		return;
	}
	tvn_top_frame__diff(&next, v->have ? &v->cur : NULL);
	tvn_top_frame__sort(&next, v->o.sort);
	tvn_top_frame__free(&v->cur);
	v->cur = next;
	v->have = true;
	reselect(v);
}

/* The host the level keys act on: the selected flow's, or the only one. */
static int selected_pid(const struct view *v)
{
	if (v->sel >= 0)
		return v->cur.targets[v->cur.flows[v->sel].target].pid;
	if (v->cur.n_targets == 1)
		return v->cur.targets[0].pid;
	return tvn_top_source__pid(v->src);
}

static void switch_level(struct view *v, int level)
{
	char req[64], reply[640];
	int pid = selected_pid(v), rc;
	unsigned long long ns = 0;

	if (pid <= 0) {
		snprintf(v->status, sizeof(v->status), "no host selected");
		return;
	}
	snprintf(req, sizeof(req), "level %s", tvn_level__name(level));
	rc = tvn_control__request(pid, req, reply, sizeof(reply));
	if (rc)
		snprintf(v->status, sizeof(v->status), "pid %d: %s", pid,
			 rc == -ECONNREFUSED || rc == -ENOENT ? "no session serves it"
							      : strerror(-rc));
	else if (!strncmp(reply, "ok ", 3) && sscanf(reply + 3, "%*s %llu", &ns) == 1)
		snprintf(v->status, sizeof(v->status), "pid %d: %s (switched in %.1f ms)", pid,
			 tvn_level__name(level), ns / 1e6);
	else if (!strncmp(reply, "err ", 4) && strchr(reply + 4, ' '))
		snprintf(v->status, sizeof(v->status), "pid %d: %s", pid,
			 strchr(reply + 4, ' ') + 1);
	else
		snprintf(v->status, sizeof(v->status), "pid %d: %s", pid, reply);
}

/* ------------------------------------------------------------ drawing */

/* Scrolls so that the selected flow's row, and as many of its lines as fit, show. */
static void scroll_to_sel(struct view *v, const struct tvn_top_lines *l, int rows)
{
	int first = -1, last = -1;

	for (int i = FIXED_ROWS; i < l->n; i++) {
		if (l->v[i].flow == v->sel && v->sel >= 0) {
			first = first < 0 ? i : first;
			last = i;
		}
	}
	if (first < 0)
		return;
	first -= FIXED_ROWS;
	last -= FIXED_ROWS;
	if (last >= v->top + rows)
		v->top = last - rows + 1;
	if (first < v->top)
		v->top = first;
}

static int attr_of(const struct view *v, const struct tvn_top_line *ln)
{
	switch (ln->kind) {
	case TVN_TOP_LINE_HEAD:
		return A_UNDERLINE;
	case TVN_TOP_LINE_TARGET:
		return A_BOLD;
	case TVN_TOP_LINE_FLOW:
		return ln->flow == v->sel ? A_REVERSE : A_BOLD;
	default:
		return A_NORMAL;
	}
}

static void draw(struct view *v)
{
	struct tvn_top_lines l;
	int rows = LINES - FIXED_ROWS - 1 > 0 ? LINES - FIXED_ROWS - 1 : 1;

	erase();
	if (tvn_top_lines__build(&v->cur, &v->o, &l)) {
		mvaddstr(0, 0, "out of memory");
		refresh();
		return;
	}
	scroll_to_sel(v, &l, rows);
	if (v->top > l.n - FIXED_ROWS - rows)
		v->top = l.n - FIXED_ROWS - rows > 0 ? l.n - FIXED_ROWS - rows : 0;
	for (int y = 0; y < LINES - 1; y++) {
		int i = y < FIXED_ROWS ? y : y + v->top;

		if (i >= l.n)
			break;
		attrset(attr_of(v, &l.v[i]));
		mvaddnstr(y, 0, l.v[i].text, COLS);
	}
	attrset(A_NORMAL);
	if (!v->have)
		mvaddnstr(FIXED_ROWS, 0, "waiting for the first scrape...", COLS);
	mvaddnstr(LINES - 1, 0, v->status, COLS);
	tvn_top_lines__free(&l);
	refresh();
}

/* ------------------------------------------------------------ keys */

/* Handles one key; 1 when it asks to quit. */
static int key(struct view *v, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case 'o':
	case 'p':
	case 'd':
		switch_level(v, ch == 'o' ? 0 : ch == 'p' ? 1 : 2);
		refresh_frame(v);
		break;
	case 's':
		v->o.sort = (v->o.sort + 1) % TVN_TOP_SORT_COUNT;
		tvn_top_frame__sort(&v->cur, v->o.sort);
		reselect(v);
		break;
	case KEY_UP:
	case 'k':
		move_sel(v, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(v, 1);
		break;
	case KEY_PPAGE:
		v->top = v->top > LINES / 2 ? v->top - LINES / 2 : 0;
		break;
	case KEY_NPAGE:
		v->top += LINES / 2;
		break;
	default: /* KEY_RESIZE included: the next draw uses the new LINES and COLS */
		break;
	}
	return 0;
}

int tvn_top_view__run(struct tvn_top_source *src, const struct tvn_top_view_opts *o,
		      volatile sig_atomic_t *stop)
{
	struct view v = {.src = src, .o = *o, .sel = -1};
	uint64_t period = (uint64_t)(o->interval_s * 1e9), next;
	SCREEN *scr;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return -ENOTTY;
	setlocale(LC_CTYPE, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr)
		return -ENOTTY;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	v.o.keys = true;
	refresh_frame(&v);
	next = tvn_time__mono_ns() + period;
	while (!*stop) {
		uint64_t now = tvn_time__mono_ns();
		int ch;

		if (now >= next) {
			refresh_frame(&v);
			next = now + period;
		}
		draw(&v);
		now = tvn_time__mono_ns();
		timeout(next > now ? (int)((next - now) / 1000000) + 1 : 0);
		ch = getch();
		if (ch != ERR && key(&v, ch))
			break;
	}
	endwin();
	delscreen(scr);
	tvn_top_frame__free(&v.cur);
	free(v.sel_id);
	return 0;
}
