"""Code suggestions over a 1,000,000-character corpus of interview and meeting text.

Builds a fictional but realistic Chinese corpus (interviews, meeting minutes, mediation notes,
CRLF line ends) by recombining sentences, splits it into sentences with `text.sentences`, and
times `Suggester.suggest` on every segment: the default single-pass trigger scan and, unless
`--no-tokens`, the jieba-token mode. Prints characters per second, the ratio to the target of
200,000 characters per second, and peak resident memory; the last line is JSON.

    .venv/bin/python benchmarks/evidence_bench.py [--chars 1000000] [--seed 7] [--no-tokens]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
import tracemalloc

from colift.evidence.suggest import Suggester
from colift.evidence.text import sentences, tokenizer

TARGET = 200_000  # characters per second

SPEAKERS = (
    "居委会主任",
    "社区党委书记",
    "党员楼栋长",
    "一楼住户",
    "二楼住户",
    "五楼住户",
    "六楼住户",
    "单元长",
    "电梯公司项目经理",
    "街道城建科",
    "退休工程师",
    "调解员",
)

SENTENCES = (
    "我们这栋楼是一九八八年建的，六层，一个单元十二户，老人占了一大半。",
    "我母亲今年八十三了，腿脚不好，上下楼全靠我背，一年多没下过楼。",
    "一楼的王阿姨担心装了电梯以后挡住采光，她家厨房本来就暗。",
    "低层住户普遍有顾虑，说电梯运行有噪音，晚上睡不好觉。",
    "二楼的说我们走两步就到了，装不装无所谓，让我们出钱肯定不干。",
    "六楼的刘师傅天天盼着装，说只要能装，多出点钱也愿意。",
    "老两口一个月退休金三千多，让他们一下子拿出四万，实在拿不出来。",
    "三楼那户房子租出去了，房东在外地，电话打了好几次都联系不上。",
    "有人听说装电梯要占用一楼的院子，其实方案根本不动院子，这是误会。",
    "他总觉得牵头的人拿了电梯公司的好处，谁说都不信。",
    "单元门口底下有一根燃气主管，电梯基坑要挖就得先迁管。",
    "社区党委书记亲自牵头，把街道、住建和电梯公司请来开协调会。",
    "楼里的四个党员带头签字，还承诺多出一份钱，给邻居带个头。",
    "党员楼栋长老赵晚上一家一家上门，听大家说顾虑，把政策讲清楚。",
    "社区把楼里的五名党员组织起来，成立了楼栋党小组。",
    "街道开了联席会议，规划、住建、燃气的人都在，当场定了迁管方案。",
    "燃气公司来踏勘了两次，说迁管费用由他们先出一半。",
    "社区帮我们把规划、施工许可的手续一次都代办了，少跑了很多趟。",
    "政府补贴了二十万，每户一下子少出了一万多，大家心里踏实了。",
    "社区推荐了三家电梯公司来报价，大家比了比才定的。",
    "居委会先发了意愿征询表，问清楚每户愿不愿意装、最担心什么。",
    "晚上在活动室开议事协商会，高层低层把顾虑摆到桌面上，一条条商量。",
    "一楼提了书面反对，街道组织了听证会，请了律师和人大代表。",
    "分摊比例、补偿和以后的维保都写进加装协议，每户签字。",
    "方案在单元门口公示了十天，没有人提异议。",
    "按民法典要求组织表决，面积和人数都过了三分之二。",
    "社区请住建局的人来宣讲政策，补贴怎么领、流程怎么走讲得很清楚。",
    "我们组织一楼的几户去隔壁小区看了装好的电梯，回来态度就松动了。",
    "隔壁单元去年就装好了，人家能谈成，我们为什么不行。",
    "最后是他几十年的老同事去劝，他才松口。",
    "王书记跟他拉家常，说将心比心，楼上的老人也难。",
    "拿着同意书一户户去签，外地的寄过去再寄回来。",
    "每户的钱打进共管账户，每一笔支出都在业主群里公开。",
    "单元长天天去工地盯着，进度每周在群里通报一次。",
    "建了个单元业主群，外地业主也拉进来了，有谣言当场就澄清。",
    "通过物业登记和老邻居打听，终于找到了在外地的那户业主。",
    "请楼里的退休工程师把图纸从头审了一遍，发现基坑离燃气管太近。",
    "社区律师讲清楚了表决规则，大家才知道不需要全票。",
    "几个懂行的居民代表跟厂家谈了三轮，总价压下来八万。",
    "改成玻璃井道，又往外挪了半米，一楼的光线基本不受影响。",
    "楼上几户商量好，每户给一楼补偿五千，写进了协议。",
    "调解委员会出面调了三次，双方各退一步。",
    "电梯装好后成立了管理小组，轮流值守，电费按月收。",
    "竣工验收时请了两位居民代表，和质监站一起验。",
    "去年十月电梯通梯了，楼里的老人都下楼来看。",
    "装完电梯，大家又凑钱把楼道刷了，邻里关系比以前融洽多了。",
    "说了好几年，一直没人牵头，大家也就说说而已。",
    "一楼起诉到法院，电梯停工了一年多，最后还是搁置了。",
    "书记来了好几次，反而把一楼惹火了，越劝越僵。",
    "最后大家商定按楼层系数分摊，一楼不出钱，方案就这么定了。",
    "会上大家你一言我一语，说到后来都同意先把方案定下来再说。",
    "这件事说到底还是要大家一起出力，光靠社区是办不成的。",
    "我们小区一共二十四个单元，现在已经有九个单元装上了。",
    "那天下着雨，来开会的人还是挺多的，活动室都坐满了。",
)

HEADINGS = (
    "访谈记录：{unit}单元住户",
    "{unit}单元加装电梯议事协商会会议纪要",
    "{unit}单元加装电梯调解记录",
    "业主群聊天摘录（{unit}单元）",
)


def build_corpus(chars: int, seed: int) -> str:
    """Documents of 20-60 lines, each line a speaker and one to three sentences, CRLF ends."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        lines = [rng.choice(HEADINGS).format(unit=rng.randint(1, 30))]
        for _ in range(rng.randint(20, 60)):
            said = "".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 3)))
            lines.append(f"{rng.choice(SPEAKERS)}：{said}")
        doc = "\r\n".join(lines) + "\r\n\r\n"
        parts.append(doc)
        size += len(doc)
    return "".join(parts)[:chars]


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="best of N scans")
    parser.add_argument("--no-tokens", action="store_true", help="skip the jieba-token mode")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    corpus = build_corpus(args.chars, args.seed)
    t_build = time.perf_counter() - t0

    t0 = time.perf_counter()
    segments = [s.text for s in sentences(corpus)]
    t_split = time.perf_counter() - t0
    seg_chars = sum(len(s) for s in segments)

    t0 = time.perf_counter()
    engine = Suggester()
    t_init = time.perf_counter() - t0

    best = float("inf")
    suggested = 0
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        results = [engine.suggest(s, top_k=5) for s in segments]
        best = min(best, time.perf_counter() - t0)
        suggested = sum(1 for r in results if r)
    scan_cps = seg_chars / best
    rss_scan = _rss_mb()

    # Python-heap peak of one scan pass (tracemalloc slows the pass, so it is timed apart).
    tracemalloc.start()
    _ = [engine.suggest(s, top_k=5) for s in segments]
    heap_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    out: dict[str, object] = {
        "corpus_chars": len(corpus),
        "segments": len(segments),
        "segment_chars": seg_chars,
        "segments_with_suggestions": suggested,
        "build_s": round(t_build, 3),
        "split_s": round(t_split, 3),
        "suggester_init_s": round(t_init, 4),
        "scan_s": round(best, 3),
        "scan_chars_per_s": round(scan_cps),
        "scan_ratio_to_target": round(scan_cps / TARGET, 2),
        "scan_heap_peak_mb": round(heap_peak_mb, 1),
        "end_to_end_chars_per_s": round(len(corpus) / (t_split + best)),
        "load_1min_before": round(load, 2),
    }
    print(f"corpus: {len(corpus):,} characters, {len(segments):,} segments (sentences)")
    print(f"corpus built in {t_build:.2f} s, split in {t_split:.2f} s")
    print(
        f"suggest, trigger scan: {best:.2f} s = {scan_cps:,.0f} chars/s "
        f"({scan_cps / TARGET:.1f}x the {TARGET:,} chars/s target); "
        f"{suggested:,} segments got suggestions"
    )
    print(
        f"  end to end (sentence split + scan) over the whole corpus: "
        f"{out['end_to_end_chars_per_s']:,} chars/s"
    )
    print(f"  Python heap peak during one pass (tracemalloc): {heap_peak_mb:.1f} MB")

    if not args.no_tokens:
        t0 = time.perf_counter()
        tokenizer(engine.codebook)
        t_jieba = time.perf_counter() - t0
        t0 = time.perf_counter()
        for s in segments:
            engine.suggest(s, top_k=5, tokens=True)
        t_tok = time.perf_counter() - t0
        tok_cps = seg_chars / t_tok
        out.update(
            jieba_init_s=round(t_jieba, 2),
            tokens_s=round(t_tok, 2),
            tokens_chars_per_s=round(tok_cps),
            tokens_ratio_to_target=round(tok_cps / TARGET, 2),
        )
        print(
            f"suggest, jieba-token mode: {t_tok:.2f} s = {tok_cps:,.0f} chars/s "
            f"({tok_cps / TARGET:.1f}x target; jieba dictionary loaded in {t_jieba:.2f} s)"
        )

    out["peak_rss_mb"] = round(_rss_mb(), 1)
    out["scan_peak_rss_mb"] = round(rss_scan, 1)
    out["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(
        f"peak resident memory: {out['peak_rss_mb']} MB (after the scan alone: {rss_scan:.1f} MB)"
    )
    print(f"load average (1 min): {load:.2f} before, {out['load_1min_after']} after")
    print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
