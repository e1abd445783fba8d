/* fields.h — field selectors ("metadata.name=x,status.phase!=Running"). */
#ifndef ORC_FIELDS_H
#define ORC_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct orc_fieldsel orc_fieldsel;

/* Terms "path=value", "path==value", "path!=value" joined by ','. Values may
 * be empty. ORC_EINVAL with a message on bad syntax. */
int orc_fieldsel_parse(const char *s, orc_fieldsel **out, char *msg, size_t n);
size_t orc_fieldsel_count(const orc_fieldsel *fs);
/* The path of term i ("status.phase"). Borrowed. */
const char *orc_fieldsel_path(const orc_fieldsel *fs, size_t i);
/* Term i matches path rather than the one it was parsed with (a field
 * label another version of the kind names differently). 0, ORC_EINVAL (no term i) or ORC_ENOMEM. */
int orc_fieldsel_set_path(orc_fieldsel *fs, size_t i, const char *path);
/* A term matches when the object's value at the dotted path, as a string
 * (absent = ""), equals (or, for !=, differs from) the term's value. */
bool orc_fieldsel_matches(const orc_fieldsel *fs, const json_t *obj);
void orc_fieldsel_free(orc_fieldsel *fs);

#endif
