#!/usr/bin/python3
"""check-registry.py - what names a service, against services/registry.tsv (issue 16 §2).

Run by scripts/test.sh (static layer): python3 scripts/check-registry.py [repo]. The build, the
scripts and the compose checks read the registry themselves (its header lists who); this checks
the places that keep their own copy, one line per difference:
  - deploy/gateway/render.sh: its default ports; nginx.conf.template: one upstream per service
    and no other, each from SESSHU_GW_<NAME>_UPSTREAM;
  - README.md (the table of services and ports) and docs/architecture.md §1 (port and schemas);
  - services/<name>/: a folder per service with a service.c whose .default_port is
    SS_PORT_<NAME>; no service's C code writes a service port as a number; every
    ss_svc_call("<TARGET>", ...) of a service names a service listed in its "calls" (a read of a
    records feed through the library, ss_feed_poll/get/head, is a call to records), and every
    listed call is made;
  - the schemas each service's migrations create are the registry's.
Exits 1 on any difference.
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import registry  # noqa: E402


def read(repo, rel):
    with open(os.path.join(repo, rel), encoding="utf-8") as f:
        return f.read()


def check_gateway(repo, reg, errors):
    render = read(repo, "deploy/gateway/render.sh")
    m = re.search(r"declare -A default_port=\(([^)]*)\)", render)
    got = dict((k.lower(), int(v)) for k, v in re.findall(r"\[([A-Z]+)\]=(\d+)", m.group(1))) if m else {}
    want = {s["name"]: s["port"] for s in reg}
    if got != want:
        errors.append("deploy/gateway/render.sh: default_port %s is not the registry's %s" % (got, want))
    tmpl = read(repo, "deploy/gateway/nginx.conf.template")
    ups = re.findall(r"upstream\s+(\w+)\s*\{\s*server\s+\$\{SESSHU_GW_(\w+)_UPSTREAM\}", tmpl)
    if sorted(u for u, _ in ups) != sorted(want):
        errors.append("nginx.conf.template: upstreams %s, the registry has %s" % (sorted(u for u, _ in ups), sorted(want)))
    for name, var in ups:
        if var != name.upper():
            errors.append("nginx.conf.template: upstream %s is served from SESSHU_GW_%s_UPSTREAM" % (name, var))


def check_tables(repo, reg, errors):
    readme = read(repo, "README.md")
    arch = read(repo, "docs/architecture.md")
    for s in reg:
        if not re.search(r"^\| %s \| %d \| %d \|" % (s["name"], s["port"], s["port"] + 10000), readme, re.M):
            errors.append("README.md: no row '| %s | %d | %d |' in the table of services" % (s["name"], s["port"], s["port"] + 10000))
        m = re.search(r"^\| `%s` \| (\d+) \| [^|]* \| ([^|]*) \|" % s["name"], arch, re.M)
        if not m:
            errors.append("docs/architecture.md: no row for `%s` in §1" % s["name"])
            continue
        schemas = re.findall(r"`([a-z_]+)`", m.group(2))
        if int(m.group(1)) != s["port"] or schemas != s["schemas"]:
            errors.append("docs/architecture.md: `%s` has port %s and schemas %s, the registry %d and %s"
                          % (s["name"], m.group(1), schemas, s["port"], s["schemas"]))


def check_code(repo, reg, errors):
    names = {s["name"] for s in reg}
    ports = "|".join(str(s["port"]) for s in reg)
    for d in sorted(glob.glob(os.path.join(repo, "services", "*", ""))):
        name = os.path.basename(os.path.dirname(d))
        if name not in names and os.path.exists(os.path.join(d, "service.c")):
            errors.append("services/%s: a service that services/registry.tsv does not list" % name)
    for s in reg:
        d = os.path.join(repo, "services", s["name"])
        svc_c = os.path.join(d, "service.c")
        if not os.path.exists(svc_c):
            errors.append("services/%s/service.c: missing" % s["name"])
            continue
        if ".default_port = SS_PORT_%s," % s["name"].upper() not in read(repo, svc_c):
            errors.append("services/%s/service.c: .default_port is not SS_PORT_%s" % (s["name"], s["name"].upper()))
        made = set()
        for f in sorted(glob.glob(os.path.join(d, "**", "*.[ch]"), recursive=True)):
            rel = os.path.relpath(f, repo)
            src = read(repo, rel)
            for n, line in enumerate(src.splitlines(), 1):
                if re.search(r"\b(%s)\b" % ports, line):
                    errors.append("%s:%d: a service port written as a number (use SS_PORT_<NAME>)" % (rel, n))
            for target in re.findall(r'ss_svc_call\(\s*"([A-Z]+)"', src):
                made.add(target.lower())
                if target.lower() not in s["calls"]:
                    errors.append('%s: calls %s, not in the registry\'s calls of %s (%s)'
                                  % (rel, target.lower(), s["name"], ",".join(s["calls"]) or "-"))
            # The library's feed client (sesshu/feed.h) calls the records service's feeds.
            if re.search(r"\bss_feed_(poll|get|head)\(", src):
                made.add("records")
                if "records" not in s["calls"]:
                    errors.append("%s: reads a records feed (ss_feed_*), not in the registry's calls of %s"
                                  % (rel, s["name"]))
        for target in s["calls"]:
            if target not in names:
                errors.append("services/registry.tsv: %s calls %s, which is no service" % (s["name"], target))
            elif target not in made:
                errors.append("services/registry.tsv: %s is listed as calling %s, but no ss_svc_call does" % (s["name"], target))
        created = set()
        for f in glob.glob(os.path.join(d, "migrations", "*.sql")):
            created |= set(re.findall(r"CREATE SCHEMA (?:IF NOT EXISTS )?([a-z_]+)", read(repo, os.path.relpath(f, repo)), re.I))
        extra = created - set(s["schemas"])
        if extra:
            errors.append("services/%s/migrations: creates schemas %s the registry does not give it" % (s["name"], sorted(extra)))


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else "."
    try:
        reg = registry.load(repo)
    except (OSError, ValueError) as e:
        print("check-registry: %s" % e)
        return 1
    errors = []
    check_gateway(repo, reg, errors)
    check_tables(repo, reg, errors)
    check_code(repo, reg, errors)
    for e in errors:
        print(e)
    if errors:
        print("check-registry: %d problem(s)" % len(errors))
        return 1
    print("check-registry: %d services; gateway, tables and code agree with services/registry.tsv" % len(reg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
