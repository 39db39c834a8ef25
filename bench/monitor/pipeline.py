"""Python reference pipeline doing comparable work to `chipwatch monitor classify` (parse +
classify + link), single-threaded: feed-mirror items split with regex, HTML cleaned with
BeautifulSoup (script/style/nav/aside removed), language by script ratio, traditional Chinese
left as is (jieba gets it), jieba segmentation for Chinese, gazetteer and trigger lexicons of
data/gazetteer compiled into one regex alternation each and matched on the lower-cased text,
event type by weighted trigger counts.

usage: python3 pipeline.py CORPUS_DIR"""
import glob, os, re, sys, time, tomllib
import jieba
from bs4 import BeautifulSoup

jieba.setLogLevel(60)
root = os.path.join(os.path.dirname(__file__), "..", "..")
g = os.path.join(root, "data/gazetteer")
aliases = {}
for c in tomllib.load(open(f"{g}/countries.toml", "rb"))["country"]:
    for a in c.get("aliases", []):
        aliases[a.lower()] = ("country", c["iso3"])
for o in tomllib.load(open(f"{g}/organisations.toml", "rb"))["org"]:
    for a in o.get("aliases", []) + o.get("case_aliases", []):
        aliases[a.lower()] = ("org", o["id"])
for it in tomllib.load(open(f"{g}/items.toml", "rb"))["item"]:
    for a in it["aliases"]:
        aliases[a.lower()] = ("item", it["items"][0])
ent_re = re.compile("|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True)))
trig = tomllib.load(open(f"{g}/triggers.toml", "rb"))
trig_re = []
for e in trig["event"]:
    pats = [".{0,40}?".join(re.escape(p.lower()) for p in t.split("…")) for t in e["terms"]]
    trig_re.append((e["type"], e["weight"], re.compile("|".join(pats))))
marker = re.compile(r"^<!--(\d{10}|\d{13})-->\s*$", re.M)
link = re.compile(r"^\[(.*)\]\((.*)\)\s*$", re.M)
sent = re.compile(r"(?<=[。！？!?])|\n")

def classify(title, html):
    soup = BeautifulSoup(html, "html.parser")
    for t in soup(["script", "style", "nav", "aside", "form"]):
        t.decompose()
    text = soup.get_text("\n")
    low = (title + "\n" + text).lower()
    han = sum(1 for ch in low if "\u4e00" <= ch <= "\u9fff")
    if han > len(low) * 0.1:
        _ = list(jieba.cut(low))
    ents = {aliases[m.group(0)] for m in ent_re.finditer(low)}
    scores = {}
    for s in sent.split(low):
        for et, w, r in trig_re:
            if r.search(s):
                scores[et] = scores.get(et, 0) + w
    best = max(scores, key=scores.get) if scores else "none"
    return best, ents

def main():
    files = sorted(glob.glob(os.path.join(sys.argv[1], "*")))
    docs = [open(f, encoding="utf-8").read() for f in files]
    jieba.initialize()
    t0 = time.perf_counter()
    n = 0
    for d in docs:
        if marker.match(d):
            parts = marker.split(d)[1:]
            for i in range(0, len(parts), 2):
                item = parts[i + 1]
                m = link.search(item)
                title = m.group(1) if m else ""
                html = item.split("------", 1)[-1].split("获取更多RSS")[0]
                classify(title, html)
                n += 1
        else:
            classify("", d)
            n += 1
    dt = time.perf_counter() - t0
    print(f"python: {n} articles in {dt:.2f} s = {n / dt:.0f} articles/s (1 core)")

main()
