#!/usr/bin/env python3
"""A small, consistent cut of data/default-model.toml for fuzz seeds (the full model is 177 kB,
which makes every fuzz input slow): the first N items, references between them kept and the
rest dropped, with their providers, shares and sources. `--json` writes the model's JSON form.
usage: small_model.py MODEL.toml N [--json]"""
import json
import re
import sys
import tomllib

path, n = sys.argv[1], int(sys.argv[2])
as_json = "--json" in sys.argv
text = open(path, encoding="utf-8").read()
model = tomllib.loads(text)
items = {i["id"] for i in model["item"][:n]}
shares = [s for s in model["share"] if s["item"] in items][: 3 * n]
providers = {s["provider"] for s in shares}
sources = {s.get("source") for s in shares} | {
    x.get("market_size", {}).get("source") for x in model["item"][:n] + model["stage"]
}

# Blocks: a [[table]] header with its lines, subtables ([item.market_size]) belong to it.
blocks, cur = [], []
for line in text.splitlines(keepends=True):
    if line.startswith("[[") and cur:
        blocks.append(cur)
        cur = []
    cur.append(line)
blocks.append(cur)


def keep(block):
    head = block[0].strip()
    body = []
    for l in block[1:]:
        if l.startswith("["):
            break
        body.append(l)
    data = tomllib.loads("".join(body)) if head.startswith("[[") else {}
    if head == "[[item]]":
        return data.get("id") in items
    if head == "[[provider]]":
        return data.get("id") in providers
    if head == "[[share]]":
        return data in shares
    if head == "[[source]]":
        return data.get("id") in sources
    return True


def refs(line):
    m = re.match(r"(goes_into|is_type_of) = (\[.*\])$", line.strip())
    if not m:
        return line
    kept = [i for i in json.loads(m.group(2)) if i in items]
    return f"{m.group(1)} = {json.dumps(kept)}\n" if kept else ""


out = "".join(refs(l) for b in blocks if keep(b) for l in b)
if as_json:
    print(json.dumps(tomllib.loads(out), indent=1, ensure_ascii=False))
else:
    sys.stdout.write(out)
