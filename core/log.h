/* log: one JSON line per event on stderr (journald keeps it), carrying the current request id. */
#ifndef CLIP_LOG_H
#define CLIP_LOG_H

#include "config.h"

void log_init(const char *proc, cfg_log_level level);
void log_set_level(cfg_log_level level);
int log_enabled(cfg_log_level level);
/* The request id added to every line this thread writes until cleared with NULL. */
void log_set_request_id(const char *id);
/* {"ts":..,"level":..,"proc":..,"pid":..,"event":EVENT,"request_id":..,"msg":MSG} */
void log_msg(cfg_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same line, but with extra pre-encoded JSON members (",\"k\":v,...", or NULL) instead of msg. */
void log_json(cfg_log_level level, const char *event, const char *members);

/* This process's pid, cached (a forked child gets its own): getpid() is a system call. */
long log_pid(void);

#define log_debug(ev, ...) log_msg(CFG_LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_msg(CFG_LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_msg(CFG_LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(CFG_LOG_ERROR, ev, __VA_ARGS__)

#endif
