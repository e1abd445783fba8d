/* test_rt_security.c — a container's securityContext applied for real (root,
 * runc, the test image): the capability set it runs with (default, drop
 * ALL, add NET_ADMIN, privileged), no_new_privs, the RuntimeDefault seccomp
 * filter refusing what it should, and supplementary groups. */
#include "tests/agent/rtfx.h"

/* Runs script in a container with sec; its output (free it). */
static char *status_of(const char *id, const struct rt_security *sec, const char *script)
{
    char log[600], *text;
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    struct rt_spec s;
    struct rt_status st;

    s = fx_spec(id, argv, log, sizeof log);
    s.sec = *sec;
    fx_start_ok(&s);
    st = fx_wait_exit(id, 10000);
    text = fx_log_text(log);
    CHECKF(st.exit_code == 0, "%s: exit %d: %s", id, st.exit_code, text);
    return text;
}

#define STATUS "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"

static void expect(const char *id, const struct rt_security *sec, const char *want)
{
    char *text = status_of(id, sec, STATUS);
    CHECKF(strstr(text, want) != NULL, "%s: want %s in:\n%s", id, want, text);
    free(text);
}

TEST_T(capabilities, 90)
{
    struct rt_security sec = {0};

    fx_setup(true, false);
    fx_open();
    fx_image();
    /* Kubernetes' default set, as Docker's: 0xa80425fb */
    expect("capdefault", &sec, "CapEff:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t0");
    {
        char *text = status_of("masked", &sec, "[ -c /proc/keys ] && echo keys-masked || echo keys-open");
        CHECKF(strstr(text, "keys-masked\n"), "runc's masked paths: %s", text);
        free(text);
    }
    sec.drop_all = true;
    expect("capnone", &sec, "CapEff:\t0000000000000000");
    sec.drop_all = false;
    sec.cap_add = (uint64_t)1 << rt_cap_number("NET_ADMIN");
    sec.cap_drop = (uint64_t)1 << rt_cap_number("cap_chown");
    expect("capnetadmin", &sec, "CapEff:\t00000000a80435fa");
    memset(&sec, 0, sizeof sec);
    sec.privileged = true;
    {
        char *text = status_of("privileged", &sec, STATUS "; [ -c /proc/keys ] && echo keys-masked || echo keys-open; "
                                                           "touch /sys/kernel/x 2>&1 | grep -q Read-only && echo sys-ro; true");
        char want[160], line[128] = "";
        FILE *f = fopen("/proc/self/status", "r"); /* this process's bounding set: every cap it holds */
        while (f && fgets(line, sizeof line, f) && strncmp(line, "CapBnd:", 7) != 0) {}
        if (f) fclose(f);
        snprintf(want, sizeof want, "CapEff:%s", line + 7);
        CHECKF(strstr(text, want), "privileged: want %s in %s", want, text);
        CHECKF(strstr(text, "keys-open\n") && !strstr(text, "sys-ro"), "privileged: unmasked /proc, rw /sys: %s", text);
        free(text);
    }
}

TEST_T(no_new_privs_and_seccomp, 90)
{
    struct rt_security sec = {0};
    char *text;

    fx_setup(true, false);
    fx_open();
    fx_image();
    sec.no_new_privs = true;
    expect("nnp", &sec, "NoNewPrivs:\t1\nSeccomp:\t0");
    sec.no_new_privs = false;
    sec.seccomp = RT_SECCOMP_RUNTIME_DEFAULT;
    /* mode 2 (filter); unshare and mount refused even to root with the
     * default capabilities' SYS_ADMIN missing, and with it by seccomp */
    text = status_of("seccomp", &sec, STATUS "; unshare -U true 2>&1 && echo unshare-ran || echo unshare-refused");
    CHECKF(strstr(text, "Seccomp:\t2"), "seccomp: %s", text);
    CHECKF(strstr(text, "unshare-refused"), "seccomp: %s", text);
    free(text);
    /* CAP_SYS_ADMIN lets the profile allow unshare, as containerd's does */
    sec.cap_add = (uint64_t)1 << rt_cap_number("SYS_ADMIN");
    text = status_of("seccompadmin", &sec, "unshare -U true 2>&1 && echo unshare-ran || echo unshare-refused");
    CHECKF(strstr(text, "unshare-ran"), "seccomp with SYS_ADMIN: %s", text);
    free(text);
}

TEST_T(localhost_seccomp_profile, 60)
{
    struct rt_security sec = {0};
    char path[400], *text;
    const char *profile = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
                          "\"action\":\"SCMP_ACT_ERRNO\"}]}";

    fx_setup(true, false);
    fx_open();
    fx_image();
    snprintf(path, sizeof path, "%s/profile.json", test_tmpdir());
    CHECK_INT(orc_file_write(path, profile, strlen(profile), 0644), ==, 0);
    sec.seccomp = RT_SECCOMP_LOCALHOST;
    snprintf(sec.seccomp_file, sizeof sec.seccomp_file, "%s", path);
    text = status_of("localprof", &sec, "mkdir /tmp/x 2>/dev/null && echo made || echo refused");
    CHECKF(strstr(text, "refused"), "localhost profile: %s", text);
    free(text);
}

TEST_T(supplementary_groups, 60)
{
    struct rt_security sec = {0};
    char *text;

    fx_setup(true, false);
    fx_open();
    fx_image();
    sec.extra_gids[0] = 4242;
    sec.extra_gids[1] = 777;
    sec.n_extra_gids = 2;
    text = status_of("groups", &sec, "id -G");
    CHECKF(strstr(text, "4242") && strstr(text, "777"), "groups: %s", text);
    free(text);
}
