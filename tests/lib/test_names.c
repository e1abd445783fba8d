/* test_names.c — Kubernetes name rules and their messages. */
#include "lib/names.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

typedef orc_name_rule rule_fn;

static void ok(rule_fn f, const char *s)
{
    char msg[512] = "";
    CHECKF(f(s, strlen(s), msg, sizeof msg) == 0, "\"%s\" rejected: %s", s, msg);
}

/* Rejected, with a message that starts with `prefix`. */
static void no(rule_fn f, const char *s, const char *prefix)
{
    char msg[1024] = "";
    CHECKF(f(s, strlen(s), msg, sizeof msg) == ORC_EINVAL, "\"%s\" accepted", s);
    CHECKF(strncmp(msg, prefix, strlen(prefix)) == 0, "\"%s\": message \"%s\"", s, msg);
}

TEST(names_dns1123_label)
{
    ok(orc_dns1123_label, "web");
    ok(orc_dns1123_label, "123-abc");
    ok(orc_dns1123_label, "a");
    no(orc_dns1123_label, "Web", "a lowercase RFC 1123 label must consist of");
    no(orc_dns1123_label, "-web", "a lowercase RFC 1123 label");
    no(orc_dns1123_label, "web-", "a lowercase RFC 1123 label");
    no(orc_dns1123_label, "a.b", "a lowercase RFC 1123 label");
    no(orc_dns1123_label, "", "a lowercase RFC 1123 label");
    no(orc_dns1123_label, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "must be no more than 63 characters");
    char msg[512];
    orc_dns1123_label("A", 1, msg, sizeof msg);
    CHECK_STR(msg, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                   "or '-', and must start and end with an alphanumeric character (e.g. "
                   "'my-name',  or '123-abc', regex used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

TEST(names_dns1123_subdomain)
{
    ok(orc_dns1123_subdomain, "example.com");
    ok(orc_dns1123_subdomain, "nginx-deployment");
    no(orc_dns1123_subdomain, "example..com", "a lowercase RFC 1123 subdomain must consist");
    no(orc_dns1123_subdomain, ".example", "a lowercase RFC 1123 subdomain");
    no(orc_dns1123_subdomain, "my_app", "a lowercase RFC 1123 subdomain");
    char longname[300];
    memset(longname, 'a', 254);
    longname[254] = '\0';
    no(orc_dns1123_subdomain, longname, "must be no more than 253 characters");
}

TEST(names_dns1035_label)
{
    ok(orc_dns1035_label, "my-svc");
    no(orc_dns1035_label, "1svc", "a DNS-1035 label must consist of lower case alphanumeric");
    no(orc_dns1035_label, "my.svc", "a DNS-1035 label");
}

TEST(names_env_var_name)
{
    ok(orc_env_var_name, "HOME");
    ok(orc_env_var_name, "my.env-name");
    ok(orc_env_var_name, "_X1");
    no(orc_env_var_name, "1X", "a valid environment variable name must consist of");
    no(orc_env_var_name, "A B", "a valid environment variable name");
    no(orc_env_var_name, "", "a valid environment variable name");
}

TEST(names_config_key)
{
    ok(orc_config_key, "game.properties");
    ok(orc_config_key, "KEY_NAME");
    ok(orc_config_key, ".hidden");
    no(orc_config_key, "a/b", "a valid config key must consist of");
    no(orc_config_key, "", "a valid config key");
    no(orc_config_key, ".", "must not be '.'");
    no(orc_config_key, "..", "must not be '..'");
    no(orc_config_key, "..data", "must not start with '..'");
}

TEST(names_label_key)
{
    ok(orc_label_key, "app");
    ok(orc_label_key, "app.kubernetes.io/name");
    ok(orc_label_key, "MyKey_1.x");
    no(orc_label_key, "", "name part must be non-empty");
    no(orc_label_key, "/app", "prefix part must be non-empty");
    no(orc_label_key, "Example.com/app", "prefix part a lowercase RFC 1123 subdomain");
    no(orc_label_key, "a/b/c", "a qualified name must consist of");
    no(orc_label_key, "bad key", "name part must consist of alphanumeric characters");
    no(orc_label_key, "example.com/", "name part must be non-empty");
    no(orc_label_key, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "name part must be no more than 63 characters");
}

TEST(names_label_value)
{
    ok(orc_label_value, "");
    ok(orc_label_value, "nginx");
    ok(orc_label_value, "v1.2_3-x");
    no(orc_label_value, "-x", "a valid label must be an empty string or consist of");
    no(orc_label_value, "a/b", "a valid label must be");
    no(orc_label_value, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "must be no more than 63 characters");
}

/* A counted name with a NUL inside: refused by every rule with the rule's
 * own message, as Kubernetes refuses "a\x00b" (never read as "a"). */
TEST(names_nul_is_refused_not_an_end)
{
    static const struct {
        rule_fn f;
        const char *prefix;
    } rules[] = {
        {orc_dns1123_label, "a lowercase RFC 1123 label"},
        {orc_dns1123_subdomain, "a lowercase RFC 1123 subdomain"},
        {orc_dns1035_label, "a DNS-1035 label"},
        {orc_env_var_name, "a valid environment variable name"},
        {orc_config_key, "a valid config key"},
        {orc_label_key, "name part must consist of"},
        {orc_label_value, "a valid label must be"},
        {orc_path_segment, "may not contain a NUL byte"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char msg[1024] = "";
        CHECKF(rules[i].f("a\0b", 3, msg, sizeof msg) == ORC_EINVAL, "rule %zu took a NUL", i);
        CHECKF(strncmp(msg, rules[i].prefix, strlen(rules[i].prefix)) == 0, "rule %zu: %s", i, msg);
        CHECKF(rules[i].f("a\0", 2, msg, sizeof msg) == ORC_EINVAL, "rule %zu took a NUL", i);
    }
    char msg[512];
    CHECK(orc_label_key("example.com/a\0", 15, msg, sizeof msg) == ORC_EINVAL);
    CHECK(orc_label_key("exa\0mple.com/a", 15, msg, sizeof msg) == ORC_EINVAL);
    CHECK(strncmp(msg, "prefix part", 11) == 0);
    /* Only the counted bytes are read. */
    CHECK(orc_dns1123_label("ab-", 2, msg, sizeof msg) == 0);
}

TEST(names_path_segment)
{
    ok(orc_path_segment, "web");
    ok(orc_path_segment, "a.b");
    ok(orc_path_segment, "...");
    no(orc_path_segment, ".", "may not be '.'");
    no(orc_path_segment, "..", "may not be '..'");
    no(orc_path_segment, "a/b", "may not contain '/'");
    no(orc_path_segment, "a%b", "may not contain '%'");
    no(orc_path_segment, "a/%b", "may not contain '/', may not contain '%'");
}
