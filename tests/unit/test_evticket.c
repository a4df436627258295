/* Tests of core/evticket: the exact ticket, its checks (edited, expired, another video, another
 * key), key rotation and the key file's errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evticket.h"
#include "testproc.h"
#include "unit.h"

#define KEY_A "k-0123456789abcdef0123456789abcdef"
#define KEY_B "second-key-abcdefghijklmnopqrstuvwxyz"
/* printf 'clipapi-events-ticket-v1\000alice\000vid1\0001800000000' |
 *   openssl dgst -sha256 -hmac KEY_A -binary | base64url */
#define MAC_A "pVqSpK6NEgPYN4IwDdTPMukPNesHoDVeGpaUueELWNY"
#define NOW 1799999000

static char dir[] = "/tmp/clipapi-evticket-XXXXXX";

static const char *keyfile(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return tp_write_file(path, text) == 0 ? path : "/nonexistent";
}

static int init(void)
{
    return mkdtemp(dir) ? 0 : 1;
}

static int cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void load(evticket_keys *k, const char *text)
{
    char err[256];
    CU_ASSERT_EQUAL_FATAL(evticket_load_keys(keyfile("keys", text), k, err, sizeof err), CLIP_OK);
}

static const char *load_err(const char *text)
{
    static char err[512];
    evticket_keys k;
    err[0] = '\0';
    if (evticket_load_keys(keyfile("bad", text), &k, err, sizeof err) == CLIP_OK)
        strcpy(err, "ok");
    return strstr(err, "/bad") ? strstr(err, "/bad") + 1 : err;
}

static clip_err check(const evticket_keys *k, const char *t, const char *video, time_t now,
                      char *uid, char *err)
{
    return evticket_check(k, t, strlen(t), video, now, uid, err, 256);
}

static void test_exact_ticket(void)
{
    evticket_keys k;
    load(&k, "# current key\n" KEY_A "\n");
    CU_ASSERT_EQUAL(k.n, 1);
    buf_t t = BUF_INIT;
    CU_ASSERT_EQUAL(evticket_make(&k, "alice", "vid1", 1800000000, &t), CLIP_OK);
    UNIT_ASSERT_STR(t.p, "alice.vid1.1800000000." MAC_A);
    char uid[IDS_MAX + 1], err[256];
    CU_ASSERT_EQUAL(check(&k, t.p, "vid1", NOW, uid, err), CLIP_OK);
    UNIT_ASSERT_STR(uid, "alice");
    buf_free(&t);
    evticket_keys_clear(&k);
    CU_ASSERT_EQUAL(k.n, 0);
}

static void test_refusals(void)
{
    evticket_keys k;
    load(&k, KEY_A "\n");
    char uid[IDS_MAX + 1], err[256];
    const char *good = "alice.vid1.1800000000." MAC_A;
    /* expired: at and after the expiry */
    CU_ASSERT_EQUAL(check(&k, good, "vid1", 1800000000, uid, err), CLIP_EAUTH);
    UNIT_ASSERT_STR(err, "the ticket has expired; ask for a new one");
    UNIT_ASSERT_STR(uid, "");
    /* genuine, but for another video of alice */
    CU_ASSERT_EQUAL(check(&k, good, "vid2", NOW, uid, err), CLIP_ENOTFOUND);
    UNIT_ASSERT_STR(err, "the ticket is for another video");
    /* edited: user, video, expiry, MAC */
    const char *edited[] = {"bobby.vid1.1800000000." MAC_A, "alice.vid2.1800000000." MAC_A,
                            "alice.vid1.1900000000." MAC_A,
                            "alice.vid1.1800000000.pVqSpK6NEgPYN4IwDdTPMukPNesHoDVeGpaUueELWNZ"};
    for (size_t i = 0; i < sizeof edited / sizeof edited[0]; i++) {
        CU_ASSERT_EQUAL(check(&k, edited[i], i == 1 ? "vid2" : "vid1", NOW, uid, err), CLIP_EAUTH);
        UNIT_ASSERT_STR(err, "the ticket is not valid");
    }
    /* malformed shapes */
    const char *bad[] = {"",
                         "alice",
                         "alice.vid1.1800000000",
                         "alice.vid1.1800000000." MAC_A ".x",
                         "alice.vid1.18000x0000." MAC_A,
                         "alice.vid1.." MAC_A,
                         "al/ce.vid1.1800000000." MAC_A,
                         ".vid1.1800000000." MAC_A,
                         "alice.vid1.1800000000000000." MAC_A,
                         "alice.vid1.1800000000." MAC_A "A"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(check(&k, bad[i], "vid1", NOW, uid, err), CLIP_EAUTH);
        UNIT_ASSERT_STR(err, "the ticket is malformed");
    }
    /* a NUL inside does not end the ticket early */
    char withnul[] = "alice.vid1.1800000000." MAC_A "\0x";
    CU_ASSERT_EQUAL(evticket_check(&k, withnul, sizeof withnul - 1, "vid1", NOW, uid, err, 256),
                    CLIP_EAUTH);
    /* a very long one is refused by its length */
    char longt[EVTICKET_MAX + 10];
    memset(longt, 'a', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    CU_ASSERT_EQUAL(check(&k, longt, "vid1", NOW, uid, err), CLIP_EAUTH);
    /* no keys, nothing passes */
    evticket_keys none;
    memset(&none, 0, sizeof none);
    CU_ASSERT_EQUAL(check(&none, good, "vid1", NOW, uid, err), CLIP_EAUTH);
    buf_t t = BUF_INIT;
    CU_ASSERT_EQUAL(evticket_make(&none, "alice", "vid1", 1800000000, &t), CLIP_EINTERNAL);
    CU_ASSERT_EQUAL(evticket_make(&k, "al.ce", "vid1", 1800000000, &t), CLIP_EINTERNAL);
    buf_free(&t);
}

static void test_rotation(void)
{
    evticket_keys old, both, fresh;
    load(&old, KEY_A "\n");
    load(&both, KEY_B "\n\n  " KEY_A "  \n");
    load(&fresh, KEY_B "\n");
    CU_ASSERT_EQUAL(both.n, 2);
    buf_t t_old = BUF_INIT, t_new = BUF_INIT;
    CU_ASSERT_EQUAL(evticket_make(&old, "alice", "vid1", 1800000000, &t_old), CLIP_OK);
    CU_ASSERT_EQUAL(evticket_make(&both, "alice", "vid1", 1800000000, &t_new), CLIP_OK);
    char uid[IDS_MAX + 1], err[256];
    /* during the rotation both verify; the new key signs */
    CU_ASSERT_EQUAL(check(&both, t_old.p, "vid1", NOW, uid, err), CLIP_OK);
    CU_ASSERT_EQUAL(check(&both, t_new.p, "vid1", NOW, uid, err), CLIP_OK);
    CU_ASSERT_EQUAL(check(&fresh, t_new.p, "vid1", NOW, uid, err), CLIP_OK);
    CU_ASSERT_EQUAL(check(&old, t_new.p, "vid1", NOW, uid, err), CLIP_EAUTH);
    /* after it, the old key's tickets are refused */
    CU_ASSERT_EQUAL(check(&fresh, t_old.p, "vid1", NOW, uid, err), CLIP_EAUTH);
    buf_free(&t_old);
    buf_free(&t_new);
}

static void test_key_file_errors(void)
{
    UNIT_ASSERT_STR(load_err("short\n"), "bad:1: key shorter than 32 bytes");
    UNIT_ASSERT_STR(load_err("# only a comment\n\n"), "bad holds no key");
    UNIT_ASSERT_STR(load_err(KEY_A "\n" KEY_B "\n" KEY_A "x\n"),
                    "bad: more than 2 keys (the new one first, the old one second during a "
                    "rotation)");
    char longkey[EVTICKET_KEY_MAX_LEN + 10];
    memset(longkey, 'x', sizeof longkey - 2);
    longkey[sizeof longkey - 2] = '\n';
    longkey[sizeof longkey - 1] = '\0';
    UNIT_ASSERT_STR(load_err(longkey), "bad:1: key longer than 512 bytes");
    char err[256];
    evticket_keys k;
    CU_ASSERT_EQUAL(evticket_load_keys("/nonexistent/key", &k, err, sizeof err), CLIP_EINVAL);
    UNIT_ASSERT_STR(err, "events_ticket_key_file: cannot read /nonexistent/key: No such file or "
                         "directory");
}

int main(void)
{
    CU_TestInfo tests[] = {UNIT_TEST(test_exact_ticket), UNIT_TEST(test_refusals),
                           UNIT_TEST(test_rotation), UNIT_TEST(test_key_file_errors),
                           CU_TEST_INFO_NULL};
    return unit_run("evticket", tests, init, cleanup);
}
