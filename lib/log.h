/* log.h — leveled logging to stderr, one line per message, tagged by module.
 * Never pass secrets (tokens, Secret data) to these functions. */
#ifndef ORC_LOG_H
#define ORC_LOG_H

enum orc_log_level { ORC_LOG_DEBUG, ORC_LOG_INFO, ORC_LOG_WARN, ORC_LOG_ERROR };

/* Messages below this level are dropped. Default INFO, or $ORC_LOG
 * ("debug", "info", "warn", "error") read at the first call. */
void orc_log_set_level(enum orc_log_level level);
int orc_log_enabled(enum orc_log_level level);

void orc_log(enum orc_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) \
    do { if (orc_log_enabled(ORC_LOG_DEBUG)) orc_log(ORC_LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define log_info(mod, ...) orc_log(ORC_LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...) orc_log(ORC_LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) orc_log(ORC_LOG_ERROR, mod, __VA_ARGS__)

#endif
