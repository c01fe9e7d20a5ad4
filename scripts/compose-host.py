#!/usr/bin/python3
"""compose-host.py - docker-compose.yml for one machine's loopback (scripts/test-containers.sh).

Reads docker-compose.yml and writes the same stack as one compose file in which every container
uses the host's network (network_mode: host) and listens on 127.0.0.1 only, every port moved by
OFFSET (PostgreSQL 5433+OFFSET, SMTP 2525+OFFSET, service 81NN+OFFSET, gateway 8080+OFFSET), so no
traffic leaves loopback and a second stack does not collide with the first. The database is the
Dockerfile's `postgres` stage (Debian's postgresql-15) instead of postgres:15-bookworm, which
cannot be pulled where no registry is reachable; the mail sink writes into MAIL_DIR on the host,
where the API tests read it.

A generated file rather than an override (-f a -f b) because Compose v1 (Debian's docker-compose)
merges lists and cannot drop the keys host networking forbids (`networks`, `ports`). Only the
addresses, ports and those keys change (and the reference-data container is left out, see
transform); images, commands, variables, volumes, healthchecks and
the start order are the file's own.

Usage: compose-host.py REPO_ROOT OFFSET MAIL_DIR OUT_FILE
"""
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import registry  # noqa: E402 (services/registry.tsv)

SERVICE_PORTS = registry.ports(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DB_PORT, SMTP_PORT, GW_PORT = 5433, 2525, 8080
# The gateway speaks to the services from this address, the only one they trust with X-Real-IP
# (SESSHU_TRUSTED_PROXIES; the local stack's arrangement, scripts/lib.sh).
PROXY_ADDR = "127.0.0.2"
# What a test stack sets otherwise than production, taken from the caller's environment where
# given (scripts/test.sh's gateway limits and CORS origin; stats refreshing on every read, as the
# local stack does, instead of once a minute; the gateway's dataset cache off, as on the local
# test stack, so a read sees the refresh it caused).
TEST_KNOBS = {
    "gateway": ["SESSHU_GW_AUTH_RATE", "SESSHU_GW_AUTH_BURST", "SESSHU_GW_TOKEN_RATE",
                "SESSHU_GW_TOKEN_BURST", "SESSHU_GW_API_RATE", "SESSHU_GW_API_BURST",
                "SESSHU_GW_CORS_ORIGINS", "SESSHU_GW_STATS_CACHE"],
    "stats": ["SESSHU_STATS_REFRESH_MS"],
}


def moved(off):
    """{old port: new port} for every port of the stack."""
    ports = {p: p + off for p in SERVICE_PORTS.values()}
    ports.update({DB_PORT: DB_PORT + off, SMTP_PORT: SMTP_PORT + off, GW_PORT: GW_PORT + off})
    return ports


def re_address(value, ports):
    """Host names of the stack's services -> 127.0.0.1, their ports -> moved ports."""
    names = "|".join(list(SERVICE_PORTS) + ["postgres", "smtp", "gateway", "localhost"])

    def sub(m):
        return "127.0.0.1:%d" % ports.get(int(m.group(2)), int(m.group(2)))
    return re.sub(r"\b(%s|127\.0\.0\.1|0\.0\.0\.0):(\d+)\b" % names, sub, value)


def host_env(name, env, ports):
    out = {}
    for key, val in env.items():
        val = "" if val is None else str(val)
        if key == "SESSHU_BIND":
            val = "127.0.0.1"
        elif key == "SESSHU_DB_HOST":
            val = "127.0.0.1"
        elif key == "SESSHU_TRUSTED_PROXIES":
            val = PROXY_ADDR
        elif key == "SESSHU_GW_PROXY_BIND":
            val = PROXY_ADDR
        elif key == "PGPORT" or (key.endswith("_PORT") and val.isdigit()):
            val = str(ports.get(int(val), int(val)))
        else:
            val = re_address(val, ports)
        out[key] = val
    return out


def transform(doc, off, mail_dir):
    ports = moved(off)
    services = doc["services"]
    # The test stack keeps the migrations' small bank master and no holidays, as scripts/test.sh's
    # local one does (the API tests make the banks, branches and calendars they need): the
    # one-shot reference-data container is left out (SESSHU_CT_REFERENCE=1 keeps it, its image
    # then built too).
    if os.environ.get("SESSHU_CT_REFERENCE") != "1":
        services.pop("reference-data", None)
    for name, svc in services.items():
        svc.pop("ports", None)
        svc.pop("networks", None)
        svc["network_mode"] = "host"
        if isinstance(svc.get("environment"), dict):
            svc["environment"] = host_env(name, svc["environment"], ports)
        hc = svc.get("healthcheck")
        if isinstance(hc, dict) and isinstance(hc.get("test"), list):
            test = [re_address(str(t), ports) for t in hc["test"]]
            # pg_isready -p PORT
            test = [str(ports.get(int(t), int(t))) if i and test[i - 1] == "-p" and t.isdigit()
                    else t for i, t in enumerate(test)]
            hc["test"] = test
    pg = services["postgres"]
    pg["image"] = "sesshu-postgres:dev"
    pg["build"] = {"context": ".", "dockerfile": "deploy/docker/Dockerfile", "target": "postgres"}
    pg["command"] = list(pg.get("command") or ["postgres"]) + ["-c", "listen_addresses=127.0.0.1"]
    smtp = services["smtp"]
    smtp["command"] = ["/usr/bin/python3", "/usr/local/bin/smtp_sink.py", "--host", "127.0.0.1",
                       "--port", str(ports[SMTP_PORT]), "--dir", "/var/mail/sesshu"]
    smtp["volumes"] = ["%s:/var/mail/sesshu" % mail_dir]
    for name, keys in TEST_KNOBS.items():
        env = services[name].setdefault("environment", {})
        for key in keys:
            if os.environ.get(key):
                env[key] = os.environ[key]
    doc.pop("networks", None)
    return doc


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    repo, off, mail_dir, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open("%s/docker-compose.yml" % repo, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    doc = transform(doc, off, mail_dir)
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Generated by scripts/compose-host.py from docker-compose.yml (offset %d).\n" % off)
        yaml.safe_dump(doc, f, sort_keys=False, default_flow_style=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
