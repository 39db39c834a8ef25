"""Generate a benchmark corpus of typical news pages (3-5 KB of HTML each) from the labelled
evaluation articles: each page wraps an article (all six languages) in the boilerplate real pages
carry (navigation, scripts, share widgets, image placeholders, related links). Half the pages are
written as feed-mirror archive items (the seeds' format), half as plain HTML pages.

usage: python3 gen_corpus.py OUT_DIR [N]"""
import os, random, sys, glob

root = os.path.join(os.path.dirname(__file__), "..", "..")
out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
random.seed(7)
arts = []
for p in sorted(glob.glob(os.path.join(root, "data/eval/monitor/*/*.txt"))):
    text = open(p, encoding="utf-8").read()
    if text.startswith("<!--"):
        continue
    title, _, body = text.partition("\n")
    arts.append((title.strip(), [l for l in body.strip().split("\n") if l.strip()]))
nav = "<nav><ul>" + "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(12)) + "</ul></nav>"
script = "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());</script>"
share = '<div class="share-bar"><a href="https://www.facebook.com/sharer?u=x">Facebook</a><a href="https://x.com/intent/tweet?url=x">X</a><a href="whatsapp://send?text=x">WhatsApp</a></div>'
related = '<aside class="related">' + "".join(f'<a href="/news/{i}">Related story number {i} with a longer headline</a>' for i in range(14)) + "</aside>"
os.makedirs(out, exist_ok=True)
total = 0
for i in range(n):
    title, paras = arts[i % len(arts)]
    # Repeat paragraphs so the body is news-length; vary a number so contents differ.
    body = "".join(f"<p>{p} ({i}-{k})</p>" for k, p in enumerate(paras * 4))
    html = (f'<div>13/12/2023 - 17:48</div><img src="https://img.example/{i}.jpg">{nav}{script}'
            f'<article><h1>{title}</h1>{body}</article>{share}{related}')
    if i % 2 == 0:
        doc = (f"<!--{1702487702000 + i * 1000}-->\n[{title}](https://news.example/{i})\n------\n\n{html}"
               f'<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a></div>\n')
        name = f"{i:05}.txt"
    else:
        doc = f"<!doctype html><html><head><title>{title}</title></head><body>{html}</body></html>"
        name = f"{i:05}.html"
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(doc)
    total += len(doc.encode())
print(f"{n} files, {total / n / 1024:.1f} KB average")
