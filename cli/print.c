/* print.c — `orctl get` output: the columns and cells of lib/table.h (the
 * printers the API server's Tables use too) laid out as kubectl lays out a
 * Table, `-o name`, and the tabwriter-style alignment shared with
 * describe.c. */
#include "cli/print.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "lib/timeutil.h"

/* ---- tabwriter ---------------------------------------------------------- */

#define TW_MAX_COLS 64

struct tw_cell {
    const char *s;
    size_t len, width;
};

struct tw_line {
    struct tw_cell *cells;
    size_t n; /* cells, the last one (after the last tab) included */
};

struct tw {
    struct tw_line *lines;
    size_t n_lines;
    int widths[TW_MAX_COLS];
    int depth;
    int minwidth, padding;
    struct orc_buf *out;
};

/* Display width: one per UTF-8 code point, as Go's tabwriter counts. */
static size_t text_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) w++;
    return w;
}

static int tw_split_line(struct tw_line *l, const char *s, size_t len)
{
    size_t n = 1, start = 0, c = 0;

    for (size_t i = 0; i < len; i++) n += s[i] == '\t';
    if (n > TW_MAX_COLS) n = TW_MAX_COLS; /* extra tabs fold into the last cell */
    if ((l->cells = calloc(n, sizeof *l->cells)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i <= len && c < n; i++) {
        if (i < len && (s[i] != '\t' || c == n - 1)) continue;
        l->cells[c].s = s + start;
        l->cells[c].len = i - start;
        l->cells[c].width = text_width(s + start, i - start);
        c++;
        start = i + 1;
    }
    l->n = c;
    return 0;
}

static int tw_write_lines(struct tw *t, size_t from, size_t to)
{
    static const char spaces[] = "                                                                ";
    int rv = 0;

    for (size_t i = from; i < to && rv == 0; i++) {
        const struct tw_line *l = &t->lines[i];
        for (size_t j = 0; j < l->n && rv == 0; j++) {
            rv = orc_buf_append(t->out, l->cells[j].s, l->cells[j].len);
            if ((int)j >= t->depth) continue;
            for (int pad = t->widths[j] - (int)l->cells[j].width; pad > 0 && rv == 0;) {
                int k = pad < 64 ? pad : 64;
                rv = orc_buf_append(t->out, spaces, (size_t)k);
                pad -= k;
            }
        }
        if (rv == 0) rv = orc_buf_puts(t->out, "\n");
    }
    return rv;
}

/* Go's text/tabwriter format(): finds each block of lines having a cell in
 * column `depth`, sizes it, and recurses for the columns to its right. */
static int tw_format(struct tw *t, size_t line0, size_t line1)
{
    size_t col = (size_t)t->depth;
    int rv;

    for (size_t this = line0; this < line1; this ++) {
        if (col + 1 >= t->lines[this].n) continue;
        if ((rv = tw_write_lines(t, line0, this)) != 0) return rv;
        line0 = this;
        int width = t->minwidth;
        for (; this < line1 && col + 1 < t->lines[this].n; this ++) {
            int w = (int)t->lines[this].cells[col].width + t->padding;
            if (w > width) width = w;
        }
        t->widths[t->depth++] = width;
        rv = tw_format(t, line0, this);
        t->depth--;
        if (rv != 0) return rv;
        /* The line that ended the block has no cell here: the loop's ++
         * may skip it, as Go's tabwriter does. */
        line0 = this;
    }
    return tw_write_lines(t, line0, line1);
}

int cli_tabwrite(const char *text, size_t len, int minwidth, int padding, struct orc_buf *out)
{
    struct tw t = {.minwidth = minwidth, .padding = padding, .out = out};
    size_t n = 0, start = 0;
    int rv = 0;

    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n') n++;
    if (n == 0) return 0;
    if ((t.lines = calloc(n, sizeof *t.lines)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i <= len && rv == 0; i++) {
        if (i < len && text[i] != '\n') continue;
        if (i == len && start == len) break;
        rv = tw_split_line(&t.lines[t.n_lines++], text + start, i - start);
        start = i + 1;
    }
    if (rv == 0) rv = tw_format(&t, 0, t.n_lines);
    for (size_t i = 0; i < t.n_lines; i++) free(t.lines[i].cells);
    free(t.lines);
    return rv;
}


/* ---- events ------------------------------------------------------------- */
const char *cli_event_last(const json_t *e)
{
    const char *t = orc_json_str(e, "series.lastObservedTime");
    if (t == NULL) t = orc_json_str(e, "lastTimestamp");
    if (t == NULL) t = orc_json_str(e, "eventTime");
    return t ? t : orc_json_str(e, "firstTimestamp");
}

static int cmp_event(const void *a, const void *b)
{
    int64_t ta = 0, tb = 0;
    orc_time_parse(cli_event_last(*(const json_t *const *)a), &ta);
    orc_time_parse(cli_event_last(*(const json_t *const *)b), &tb);
    return ta < tb ? -1 : ta > tb;
}

void cli_sort_events(const json_t **evs, size_t n)
{
    if (n > 1) qsort((void *)evs, n, sizeof *evs, cmp_event);
}


/* ---- tables: the columns and cells of lib/table.h ----------------------- */

static bool column_shown(const struct orc_table_column *c, unsigned flags)
{
    return c->priority == 0 || (flags & CLI_WIDE);
}

static int header_line(const struct orc_table_printer *p, bool ns, unsigned flags,
                       struct orc_buf *b)
{
    int rv = ns ? orc_buf_puts(b, "NAMESPACE\t") : 0;

    for (size_t i = 0; i < p->n_columns && rv == 0; i++) {
        if (!column_shown(&p->columns[i], flags)) continue;
        for (const char *s = p->columns[i].name; *s && rv == 0; s++) {
            char c = (char)toupper((unsigned char)*s);
            rv = orc_buf_append(b, &c, 1);
        }
        if (rv == 0) rv = orc_buf_puts(b, "\t");
    }
    if (rv == 0 && b->len) b->data[b->len - 1] = '\n'; /* the last tab ends the line */
    return rv;
}

/* One cell; the name column gets "deployment.apps/" with CLI_SHOW_KIND,
 * as kubectl prefixes the column whose format is "name". */
static int cell_text(const struct orc_kind *k, const struct orc_table_column *c,
                     const json_t *cell, unsigned flags, struct orc_buf *b)
{
    int rv = 0;

    if ((flags & CLI_SHOW_KIND) && strcmp(c->format, "name") == 0) {
        rv = orc_kind_qualified(k, b);
        if (rv == 0) rv = orc_buf_puts(b, "/");
    }
    if (rv == 0) rv = orc_table_cell_text(cell, b);
    return rv ? rv : orc_buf_puts(b, "\t");
}

static int row_line(const struct orc_kind *k, const struct orc_table_printer *p,
                    const json_t *obj, bool ns, unsigned flags, int64_t now, struct orc_buf *b)
{
    json_t *cells = orc_table_cells(p, obj, now);
    int rv = cells ? 0 : ORC_ENOMEM;

    if (rv == 0 && ns) {
        json_t *nsv = json_string(orc_json_str(obj, "metadata.namespace") ?: "");
        rv = nsv ? orc_table_cell_text(nsv, b) : ORC_ENOMEM;
        if (rv == 0) rv = orc_buf_puts(b, "\t");
        json_decref(nsv);
    }
    for (size_t i = 0; i < p->n_columns && rv == 0; i++)
        if (column_shown(&p->columns[i], flags))
            rv = cell_text(k, &p->columns[i], json_array_get(cells, i), flags, b);
    if (rv == 0 && b->len) b->data[b->len - 1] = '\n';
    json_decref(cells);
    return rv;
}

int cli_print_table(const struct orc_kind *k, const json_t *items, unsigned flags, int64_t now,
                    struct orc_buf *out)
{
    const struct orc_table_printer *p = orc_table_printer_for(k->group, k->resource);
    bool ns = (flags & CLI_ALL_NAMESPACES) && k->namespaced;
    size_t n = json_array_size(items);
    struct orc_buf text = ORC_BUF_INIT;
    const json_t **rows;
    int rv = 0;

    if (n == 0) return 0;
    if ((rows = malloc(n * sizeof *rows)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < n; i++) rows[i] = json_array_get(items, i);
    if (strcmp(k->resource, "events") == 0) cli_sort_events(rows, n);
    if (!(flags & CLI_NO_HEADERS)) rv = header_line(p, ns, flags, &text);
    for (size_t i = 0; i < n && rv == 0; i++) rv = row_line(k, p, rows[i], ns, flags, now, &text);
    if (rv == 0) rv = cli_tabwrite(text.data, text.len, 6, 3, out);
    free((void *)rows);
    orc_buf_free(&text);
    return rv;
}

int cli_print_names(const struct orc_kind *k, const json_t *items, struct orc_buf *out)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    size_t i;
    json_t *obj;
    int rv = orc_kind_qualified(k, &prefix);

    json_array_foreach (items, i, obj) {
        if (rv != 0) break;
        rv = orc_buf_printf(out, "%s/%s\n", prefix.data,
                            orc_json_str(obj, "metadata.name") ?: "");
    }
    orc_buf_free(&prefix);
    return rv;
}
