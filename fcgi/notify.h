/* notify: sd_notify(3) datagrams to $NOTIFY_SOCKET, without linking libsystemd. */
#ifndef CLIP_NOTIFY_H
#define CLIP_NOTIFY_H

/* Sends msg ("READY=1", "STOPPING=1", ...) when NOTIFY_SOCKET is set; 0 ok or not set, -1 error. */
int notify_send(const char *msg);

/* The watchdog interval in microseconds from WATCHDOG_USEC (when WATCHDOG_PID is unset or ours),
 * or 0 when there is none. */
long long notify_watchdog_usec(void);

#endif
