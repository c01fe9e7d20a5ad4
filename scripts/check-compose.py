#!/usr/bin/python3
"""check-compose.py - offline check of docker-compose.yml and deploy/docker/Dockerfile.

Used by scripts/test.sh when `docker compose config -q` cannot run (no compose plugin). Parses
the compose file with python3-yaml and checks that it describes the same stack as the scripts:
the services and their ports, the SESSHU_* variables each service is given, the Dockerfile
targets it builds, and the files it mounts; that each service has the variables its own code
reads (EXTRA_ENV), that every secret file named is one deploy/docker/init-secrets.sh makes, that
deploy/docker/db-init.sh makes each service's database role, and that the gateway's upstream for
each service is that service. The same for deploy/k8s (check_k8s): a Deployment and a Service per
service on its port, its variables (from the ConfigMap or its own), the gateway's upstreams, and
NetworkPolicies that let each service reach the ones whose URL variable it reads; and the port
services and ports themselves from services/registry.tsv (scripts/registry.py), which
scripts/lib.sh and scripts/compose-host.py read too. Prints one line per problem; exits 1 if any.

Usage: check-compose.py REPO_ROOT
"""
import importlib.util
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import registry  # noqa: E402 (services/registry.tsv)

REGISTRY = registry.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PORTS = {s["name"]: s["port"] for s in REGISTRY}
# What every application service needs (scripts/lib.sh ss_write_env has the same list).
COMMON_ENV = ["SESSHU_BIND", "SESSHU_DB_HOST", "SESSHU_DB_PORT", "SESSHU_DB_NAME",
              "SESSHU_JWT_PUBLIC_KEY_DIR", "SESSHU_JWT_ISSUER", "SESSHU_SMTP_URL",
              "SESSHU_MAIL_FROM"]
# Variables a service's own code reads (a NAME given as NAME or NAME_FILE for secrets).
EXTRA_ENV = {
    "account": ["SESSHU_ACCOUNT_SIGNING_KEY_FILE", "SESSHU_ADMIN_PASSWORD", "SESSHU_RESET_URL"],
    "token": ["SESSHU_TOKEN_SIGNING_KEY_FILE"],
    "records": ["SESSHU_RECORDS_MYNUMBER_KEY", "SESSHU_RECORDS_MYNUMBER_HMAC_KEY"],
    "certificate": ["SESSHU_CERTIFICATE_SHC_KEY_FILE", "SESSHU_CERTIFICATE_SIGNING_KEY_FILE"],
    "stats": ["SESSHU_STATS_SIGNING_KEY_FILE", "SESSHU_STATS_PSEUDONYM_KEY"],
    "payment": ["SESSHU_PAYMENT_SIGNING_KEY_FILE"],
}
# ... and the URL of every service it calls (the registry's "calls", libs/common svc.c).
for _s in REGISTRY:
    EXTRA_ENV.setdefault(_s["name"], []).extend("SESSHU_%s_URL" % t.upper() for t in _s["calls"])
# SESSHU_<SVC>_URL: the service a caller reaches over HTTP (libs/common svc.c ss_svc_call), for
# every service some other one calls (the registry's "calls").
URL_TARGET = {"SESSHU_%s_URL" % t.upper(): t for s in REGISTRY for t in s["calls"]}
SECRETS_DIR = "/run/sesshu/secrets/"


def env_of(svc):
    env = svc.get("environment", {}) or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v
        return out
    return {str(k): ("" if v is None else str(v)) for k, v in env.items()}


def published(svc):
    """Container ports published on the host, as {host_port: container_port}."""
    out = {}
    for p in svc.get("ports", []) or []:
        if isinstance(p, dict):
            out[int(p.get("published", 0))] = int(p.get("target", 0))
            continue
        parts = str(p).split(":")
        if len(parts) >= 2:
            out[int(parts[-2])] = int(parts[-1].split("/")[0])
    return out


def check_wiring(repo, services):
    """Per-service variables, secret files, database roles and gateway upstreams."""
    errors = []
    with open(os.path.join(repo, "deploy/docker/init-secrets.sh"), encoding="utf-8") as f:
        init_secrets = f.read()
    with open(os.path.join(repo, "deploy/docker/db-init.sh"), encoding="utf-8") as f:
        roles = set(re.findall(r"\b([a-z]+):[a-z,]+", f.read()))
    made = set(re.findall(r'secrets/([A-Za-z0-9._-]+)"', init_secrets))
    loop = re.search(r"for svc in ([a-z ]+); do\s+once \"\$root/secrets/db-\$svc\.pw\"",
                     init_secrets)
    made |= {"db-%s.pw" % s for s in (loop.group(1).split() if loop else [])}
    made |= {"%s.pem" % n for n in ("jwt-signing", "token-signing", "certificate-service",
                                     "stats-service", "payment-service", "audit-signing",
                                     "shc-issuer")}
    made |= {"shc-old-keys"}
    gw = env_of(services.get("gateway", {}) or {})
    for name, svc in services.items():
        if name not in PORTS or not isinstance(svc, dict):
            continue
        env = env_of(svc)
        for key in EXTRA_ENV.get(name, []):
            if key not in env and key + "_FILE" not in env:
                errors.append("%s: environment lacks %s (or %s_FILE)" % (name, key, key))
        mdir = "/usr/share/sesshu/%s/migrations" % name
        if env.get("SESSHU_MIGRATIONS_DIR") != mdir:
            errors.append("%s: SESSHU_MIGRATIONS_DIR is not %s" % (name, mdir))
        for key, val in env.items():
            if val.startswith(SECRETS_DIR) and val[len(SECRETS_DIR):] not in made:
                errors.append("%s: %s names %s, which init-secrets.sh does not make"
                              % (name, key, val))
        if name not in roles:
            errors.append("%s: deploy/docker/db-init.sh makes no database role for it" % name)
        upstream = gw.get("SESSHU_GW_%s_UPSTREAM" % name.upper())
        if "gateway" in services and upstream != "%s:%d" % (name, PORTS[name]):
            errors.append("gateway: SESSHU_GW_%s_UPSTREAM is %s, not %s:%d"
                          % (name.upper(), upstream, name, PORTS[name]))
    return errors


def k8s_docs(repo):
    """{(kind, name): object} of the files deploy/k8s/kustomization.yaml lists."""
    base = os.path.join(repo, "deploy/k8s")
    with open(os.path.join(base, "kustomization.yaml"), encoding="utf-8") as f:
        kust = yaml.safe_load(f)
    out = {}
    for res in kust.get("resources", []):
        with open(os.path.join(base, res), encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict):
                    out[(doc.get("kind"), (doc.get("metadata") or {}).get("name"))] = doc
    return out


def k8s_policy_allows(docs, src, dst, port):
    """Does some NetworkPolicy on dst admit src on port, and one on src let it out?"""
    def selects(sel, svc):
        labels = {"app": "sesshu", "service": svc}
        if any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
            return False
        return all(labels.get(e["key"]) in e.get("values", []) for e in sel.get("matchExpressions") or []
                   if e.get("operator") == "In")

    def ports_ok(rule):
        return any(p.get("port") == port for p in rule.get("ports") or [])
    pols = [d for (k, _), d in docs.items() if k == "NetworkPolicy"]
    inbound = any(selects(p["spec"].get("podSelector") or {}, dst) and any(
        ports_ok(r) and any(selects(f.get("podSelector") or {}, src) for f in r.get("from") or [])
        for r in p["spec"].get("ingress") or []) for p in pols)
    outbound = any(selects(p["spec"].get("podSelector") or {}, src) and any(
        ports_ok(r) and any(selects(t.get("podSelector") or {}, dst) for t in r.get("to") or [])
        for r in p["spec"].get("egress") or []) for p in pols)
    return inbound and outbound


def check_k8s(repo, compose_services):
    errors = []
    docs = k8s_docs(repo)
    config = (docs.get(("ConfigMap", "sesshu-config")) or {}).get("data") or {}
    for key in COMMON_ENV:
        if key not in config:
            errors.append("config.yaml: sesshu-config lacks %s" % key)
    gw = docs.get(("Deployment", "gateway"))
    gw_env = {}
    if gw is None:
        errors.append("no Deployment gateway")
    else:
        for c in gw["spec"]["template"]["spec"]["containers"]:
            gw_env.update({e["name"]: str(e.get("value")) for e in c.get("env") or []})
    for name, port in PORTS.items():
        dep, svc = docs.get(("Deployment", name)), docs.get(("Service", name))
        if name not in compose_services:
            errors.append("%s: in deploy/k8s but not in docker-compose.yml" % name)
        if dep is None or svc is None:
            errors.append("%s: no Deployment and Service" % name)
            continue
        c = dep["spec"]["template"]["spec"]["containers"][0]
        env = dict(config)
        env.update({e["name"]: str(e.get("value", "")) for e in c.get("env") or []})
        if [p.get("containerPort") for p in c.get("ports") or []] != [port]:
            errors.append("%s.yaml: containerPort is not %d" % (name, port))
        if [p.get("port") for p in svc["spec"].get("ports") or []] != [port]:
            errors.append("%s.yaml: Service port is not %d" % (name, port))
        if env.get("SESSHU_%s_PORT" % name.upper()) != str(port):
            errors.append("%s.yaml: SESSHU_%s_PORT is not %d" % (name, name.upper(), port))
        if c.get("command") != ["/usr/local/bin/sesshu-%s" % name]:
            errors.append("%s.yaml: command is not /usr/local/bin/sesshu-%s" % (name, name))
        if env.get("SESSHU_MIGRATIONS_DIR") != "/usr/share/sesshu/%s/migrations" % name:
            errors.append("%s.yaml: SESSHU_MIGRATIONS_DIR is not /usr/share/sesshu/%s/migrations"
                          % (name, name))
        if "SESSHU_%s_DB_PASSWORD_FILE" % name.upper() not in env:
            errors.append("%s.yaml: no SESSHU_%s_DB_PASSWORD_FILE" % (name, name.upper()))
        for key in EXTRA_ENV.get(name, []):
            if key not in env and key + "_FILE" not in env:
                errors.append("%s.yaml: lacks %s (or %s_FILE)" % (name, key, key))
            target = URL_TARGET.get(key)
            if target and env.get(key) != "http://%s:%d" % (target, PORTS[target]):
                errors.append("%s.yaml: %s is %s, not http://%s:%d"
                              % (name, key, env.get(key), target, PORTS[target]))
            if target and not k8s_policy_allows(docs, name, target, PORTS[target]):
                errors.append("network-policies.yaml: %s may not reach %s:%d (it reads %s)"
                              % (name, target, PORTS[target], key))
        if not k8s_policy_allows(docs, "gateway", name, port):
            errors.append("network-policies.yaml: the gateway may not reach %s:%d" % (name, port))
        if gw is not None and gw_env.get("SESSHU_GW_%s_UPSTREAM" % name.upper()) != "%s:%d" % (name, port):
            errors.append("gateway.yaml: SESSHU_GW_%s_UPSTREAM is not %s:%d" % (name.upper(), name, port))
    return ["deploy/k8s/%s" % e for e in errors]


def check_compose_host(repo):
    """scripts/compose-host.py (the containers layer's copy of the stack) knows the same ports."""
    spec = importlib.util.spec_from_file_location("compose_host",
                                                  os.path.join(repo, "scripts/compose-host.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if mod.SERVICE_PORTS != PORTS:
        return ["scripts/compose-host.py: SERVICE_PORTS is not %s" % PORTS]
    return []


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else "."
    errors = []
    with open(os.path.join(repo, "docker-compose.yml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    with open(os.path.join(repo, "deploy/docker/Dockerfile"), encoding="utf-8") as f:
        dockerfile = f.read()
    targets = set(re.findall(r"(?im)^FROM\s+\S+\s+AS\s+(\S+)", dockerfile))

    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        print("docker-compose.yml: no services mapping")
        return 1
    for name in ["postgres", "smtp", "audit", "account", "gateway"]:
        if name not in services:
            errors.append("missing service %s" % name)

    for name, svc in services.items():
        if not isinstance(svc, dict):
            errors.append("%s: not a mapping" % name)
            continue
        if "image" not in svc and "build" not in svc:
            errors.append("%s: neither image nor build" % name)
        build = svc.get("build")
        if isinstance(build, dict):
            if build.get("dockerfile") and not os.path.exists(
                    os.path.join(repo, build.get("context", "."), build["dockerfile"])):
                errors.append("%s: Dockerfile %s not found" % (name, build["dockerfile"]))
            if build.get("target") and build["target"] not in targets:
                errors.append("%s: Dockerfile has no stage %s" % (name, build["target"]))
        for dep in svc.get("depends_on", []) or []:
            if dep not in services:
                errors.append("%s: depends on unknown service %s" % (name, dep))
        for vol in svc.get("volumes", []) or []:
            src = vol.get("source") if isinstance(vol, dict) else str(vol).split(":")[0]
            if src and (src.startswith("./") or src.startswith("/")):
                if not os.path.exists(os.path.join(repo, src)):
                    errors.append("%s: mounts %s, which does not exist" % (name, src))
            elif src and src not in (doc.get("volumes") or {}):
                errors.append("%s: volume %s is not declared" % (name, src))

        if name in PORTS:
            env = env_of(svc)
            want_port = str(PORTS[name])
            upper = name.upper()
            for key in COMMON_ENV + ["SESSHU_%s_PORT" % upper, "SESSHU_%s_DB_USER" % upper]:
                if key not in env:
                    errors.append("%s: environment lacks %s" % (name, key))
            if env.get("SESSHU_%s_PORT" % upper) not in (None, want_port):
                errors.append("%s: SESSHU_%s_PORT is %s, not %s"
                              % (name, upper, env.get("SESSHU_%s_PORT" % upper), want_port))
            if env.get("SESSHU_DB_PORT") not in (None, "5433"):
                errors.append("%s: SESSHU_DB_PORT is not 5433" % name)
            if not any(k.startswith("SESSHU_%s_DB_PASSWORD" % upper) for k in env):
                errors.append("%s: no SESSHU_%s_DB_PASSWORD(_FILE)" % (name, upper))
            if "healthcheck" not in svc:
                errors.append("%s: no healthcheck" % name)
            ports = published(svc)
            if ports and ports.get(PORTS[name]) != PORTS[name]:
                errors.append("%s: port %d is not published as %d" % (name, PORTS[name], PORTS[name]))

    errors += check_wiring(repo, services)
    if "account" in services and "audit" in services:
        deps = services["account"].get("depends_on") or {}
        cond = deps.get("audit", {}).get("condition") if isinstance(deps, dict) else None
        if cond != "service_healthy":
            errors.append("account: must wait for audit to be healthy (its migrations come first)")
    if "gateway" in services and published(services["gateway"]).get(8080) != 8080:
        errors.append("gateway: port 8080 is not published")
    if "postgres" in services:
        env = env_of(services["postgres"])
        if env.get("PGPORT") != "5433":
            errors.append("postgres: PGPORT must be 5433 (the scripts' database port)")

    errors = ["docker-compose.yml: %s" % e for e in errors] + check_k8s(repo, services) + check_compose_host(repo)
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
