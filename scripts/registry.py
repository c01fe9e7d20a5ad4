"""registry.py - services/registry.tsv read for the Python scripts (check-compose.py,
compose-host.py, check-registry.py). The file's own header says what each column means."""
import os

COLUMNS = ("name", "port", "schemas", "calls", "prefixes")


def _list(value):
    return [] if value == "-" else value.split(",")


def load(repo):
    """The services in file order (port order): a list of dicts with the five columns, port an
    int and the three list columns as lists. Raises ValueError on a malformed line."""
    path = os.path.join(repo, "services", "registry.tsv")
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cols = line.split()
            if len(cols) != len(COLUMNS) or not cols[1].isdigit():
                raise ValueError("%s:%d: want %s" % (path, n, " ".join(COLUMNS)))
            out.append({"name": cols[0], "port": int(cols[1]), "schemas": _list(cols[2]),
                        "calls": _list(cols[3]), "prefixes": _list(cols[4])})
    return out


def ports(repo):
    """{name: port}, in port order."""
    return {s["name"]: s["port"] for s in load(repo)}
