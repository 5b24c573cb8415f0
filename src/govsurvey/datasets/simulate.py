"""A deterministic simulator of the example study.

It draws a realistic community survey from a known model and writes it in the formats
researchers actually receive, so the bundled example exercises the real readers:

- ~600 clean respondents in 12 communities (4 street offices), the bundled
  ``community_phe_survey`` instrument;
- correlated capacity dimensions (a general capacity factor, second-order loading 0.75),
  item loadings 0.60–0.85 on an underlying continuous response cut into 5 categories,
  community random intercepts (ICC of general capacity ≈ 0.11), planted community-level
  weaknesses in material reserves and psychological support;
- trust depending on capacity, satisfaction and participation on capacity and trust, and
  higher participation among cadres, grid workers and volunteers;
- dimensions whose performance falls short of their rated importance (reserves,
  psychological support, monitoring);
- planted speeders, straight-liners, attention-check failures and exact duplicates;
- ~20 coded interview transcripts (Chinese) whose barrier codes concentrate in the
  communities and dimensions where capacity is weak.

The truth (parameters, planted respondents, community effects) is written beside the data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsurvey.data.files import write_atomic, write_text_atomic
from govsurvey.data.writers import QuestionBlock, write_sav, write_wenjuanxing
from govsurvey.instrument import Instrument, load_instrument

__all__ = ["simulate_study", "write_example_study", "DEFAULT_SEED", "BLOCKS"]

DEFAULT_SEED = 20261124

STREETS = {
    "东湖街道": ["幸福里社区", "和平社区", "朝阳社区"],
    "南山街道": ["花园社区", "新华社区", "建设社区"],
    "西城街道": ["光明社区", "长青社区", "东风社区"],
    "北苑街道": ["团结社区", "春晖社区", "锦绣社区"],
}
CAPACITY = ["plans", "reserves", "warning", "training", "response", "information", "grid", "recovery", "psych_support"]
# Shift of the underlying response per dimension: < 0 is weaker performance.
PERFORMANCE_SHIFT = {
    "plans": 0.2, "reserves": -0.55, "warning": -0.25, "training": 0.1, "response": 0.3,
    "information": 0.5, "grid": 0.4, "recovery": 0.0, "psych_support": -0.65,
}
IMPORTANCE_SHIFT = {
    "plans": 0.7, "reserves": 1.0, "warning": 0.9, "training": 0.4, "response": 1.0,
    "information": 0.8, "grid": 0.6, "recovery": 0.5, "psych_support": 0.8,
}
THRESHOLDS = np.array([-2.0, -1.2, -0.4, 0.7])
SECOND_ORDER = 0.75
COMMUNITY_SD = 0.35
# Planted community-level weaknesses (added to the dimension's latent score).
WEAK_COMMUNITIES = {
    "reserves": (["和平社区", "新华社区", "长青社区", "春晖社区"], -0.6),
    "psych_support": (["幸福里社区", "建设社区", "东风社区"], -0.6),
}
STRUCTURAL = {
    "trust_on_capacity": 0.5,
    "satisfaction_on_capacity": 0.35,
    "satisfaction_on_trust": 0.45,
    "participation_on_capacity": 0.25,
    "participation_on_trust": 0.35,
    "participation_role_effect": 0.5,
}
N_PLANTED = {"speeder": 12, "straightline": 10, "attention": 10, "duplicate": 8}
MISSING_RATE = 0.004
# Interviews: each interviewee talks about INTERVIEW_TOPICS of the nine dimensions; the chance
# that they voice a barrier (not a facilitator) rises where the dimension is weak overall and
# where their own community is weak on it: logit = −a·shift_d − b·(w_sd + u_s).
INTERVIEW_TOPICS = 7
BARRIER_SLOPE_DIMENSION = 5.0
BARRIER_SLOPE_SITE = 3.0
DURATION_MEDIAN = 420.0
DURATION_SDLOG = 0.28

BLOCKS = (
    QuestionBlock(1, ("gender",)),
    QuestionBlock(2, ("age_group",)),
    QuestionBlock(3, ("education",)),
    QuestionBlock(4, ("role",)),
    QuestionBlock(5, ("years",)),
    QuestionBlock(6, ("street",)),
    QuestionBlock(7, ("site",)),
    QuestionBlock(8, ("PL1", "PL2", "PL3", "PL4", "RS1", "RS2", "RS3", "RS4", "MW1", "MW2", "MW3", "MW4",
                      "TR1", "TR2", "TR3"), stem="请根据您所在社区的实际情况，对以下事前准备工作作出评价", style="first"),
    QuestionBlock(9, ("RP1", "RP2", "RP3", "RP4", "IR1", "IR2", "AC1", "IR3", "IR4", "GM1", "GM2", "GM3", "GM4"),
                  stem="请评价疫情发生期间社区的应对情况", style="bare"),
    QuestionBlock(10, ("RC1", "RC2", "RC3", "PS1", "PS2", "PS3"), stem="请评价事件平息后社区的恢复工作", style="every"),
    QuestionBlock(11, ("IMP_PL", "IMP_RS", "IMP_MW", "IMP_TR", "IMP_RP", "IMP_IR", "IMP_GM", "IMP_RC", "IMP_PS"),
                  stem="您认为以下各项工作对社区应对突发公共卫生事件的重要程度如何", style="every"),
    QuestionBlock(12, ("PA1", "PA2", "PA3", "PW1", "PW2", "PW3"), stem="请判断您对以下说法的同意程度", style="first"),
    QuestionBlock(13, ("PB1", "PB2", "PB3"), stem="请选择以下情况发生的频率", style="bare"),
    QuestionBlock(14, ("TG1", "TG2", "TG3", "TG4"), stem="请判断您对以下说法的同意程度", style="first"),
    QuestionBlock(15, ("SA1",)),
    QuestionBlock(16, ("SA2",)),
    QuestionBlock(17, ("SA3",)),
)


def _categorize(ystar: np.ndarray) -> np.ndarray:
    return (np.searchsorted(THRESHOLDS, ystar) + 1).astype(float)


def _instrument() -> Instrument:
    from govsurvey.datasets import instrument_path

    return load_instrument(instrument_path("community_phe_survey"))


def simulate_study(seed: int = DEFAULT_SEED, n_clean: int = 600) -> dict[str, Any]:
    """Draw the example study. Same seed → identical output.

    Returns
    -------
    dict
        ``responses`` (codes, index = 序号, with ``_submitted``, ``_seconds``, ``_channel``,
        ``_channel_detail``, ``_ip``), ``segments``, ``codebook``, ``cases``,
        ``transcripts`` (source name → text) and ``truth``.
    """
    inst = _instrument()
    rng = np.random.default_rng(seed)
    communities = [(street, c) for street, cs in STREETS.items() for c in cs]
    n_comm = len(communities)

    # Community effects: a shared intercept and dimension-specific deviations.
    u = rng.normal(0.0, COMMUNITY_SD, n_comm)
    w = rng.normal(0.0, 0.15, (n_comm, len(CAPACITY)))
    for dim, (names, shift) in WEAK_COMMUNITIES.items():
        d = CAPACITY.index(dim)
        for k, (_, c) in enumerate(communities):
            if c in names:
                w[k, d] += shift

    comm_of = np.repeat(np.arange(n_comm), int(np.ceil(n_clean / n_comm)))[:n_clean]
    rng.shuffle(comm_of)
    g = u[comm_of] + rng.normal(0, 1, n_clean)
    eta = SECOND_ORDER * g[:, None] + np.sqrt(1 - SECOND_ORDER**2) * rng.normal(0, 1, (n_clean, len(CAPACITY))) + w[comm_of]

    role = rng.choice([1, 2, 3, 4], size=n_clean, p=[0.7, 0.1, 0.1, 0.1]).astype(float)
    active = (role > 1).astype(float)
    s = STRUCTURAL
    trust = s["trust_on_capacity"] * g + np.sqrt(1 - s["trust_on_capacity"] ** 2) * rng.normal(0, 1, n_clean)
    satis = s["satisfaction_on_capacity"] * g + s["satisfaction_on_trust"] * trust + 0.7 * rng.normal(0, 1, n_clean)
    partic = (s["participation_on_capacity"] * g + s["participation_on_trust"] * trust
              + s["participation_role_effect"] * active + 0.8 * rng.normal(0, 1, n_clean))
    sub = {name: 0.8 * partic + 0.6 * rng.normal(0, 1, n_clean) for name in ("awareness", "willingness", "behaviour")}
    latent = {d: eta[:, k] for k, d in enumerate(CAPACITY)} | {"trust": trust, "satisfaction": satis} | sub
    shift = dict(PERFORMANCE_SHIFT) | {"trust": 0.1, "satisfaction": 0.1, "awareness": 0.4, "willingness": 0.3, "behaviour": -0.5}

    cols: dict[str, np.ndarray] = {}
    loadings: dict[str, float] = {}
    for cname in inst.first_order:
        for iid in inst.items_of(cname):
            lam = float(np.round(rng.uniform(0.60, 0.85), 2))
            loadings[iid] = lam
            z = latent[cname] / np.std(latent[cname])
            ystar = shift[cname] + lam * z + np.sqrt(1 - lam**2) * rng.normal(0, 1, n_clean)
            cat = _categorize(ystar)
            item = inst.question(iid)
            cols[iid] = (6.0 - cat) if item.reverse else cat
    imp_general = rng.normal(0, 1, n_clean)
    for dim, iid in inst.importance_items.items():
        ystar = IMPORTANCE_SHIFT[dim] + 0.5 * imp_general + np.sqrt(1 - 0.25) * rng.normal(0, 1, n_clean)
        cols[iid] = _categorize(ystar)
    cols["AC1"] = np.ones(n_clean)

    cols["gender"] = rng.choice([1.0, 2.0], size=n_clean, p=[0.46, 0.54])
    cols["age_group"] = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], size=n_clean, p=[0.15, 0.22, 0.23, 0.2, 0.2])
    cols["education"] = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], size=n_clean, p=[0.2, 0.25, 0.22, 0.27, 0.06])
    cols["role"] = role
    cols["years"] = rng.choice([1.0, 2.0, 3.0, 4.0], size=n_clean, p=[0.08, 0.3, 0.3, 0.32])
    cols["street"] = np.array([communities[k][0] for k in comm_of], dtype=object)
    cols["site"] = np.array([communities[k][1] for k in comm_of], dtype=object)
    clean = pd.DataFrame({q.id: cols[q.id] for q in inst.questions})

    # Sparse item non-response (stored as each format's missing code).
    answerable = [i.id for i in inst.items if i.role in ("item", "importance")]
    holes = rng.random((n_clean, len(answerable))) < MISSING_RATE
    clean.loc[:, answerable] = clean[answerable].mask(holes)

    likert = [i.id for i in inst.items if i.role in ("item", "importance")]

    # Planted careless respondents: drawn fresh, then spoiled.
    planted_rows = []
    kinds = []
    donors = rng.choice(n_clean, size=N_PLANTED["speeder"] + N_PLANTED["straightline"] + N_PLANTED["attention"], replace=False)
    k = 0
    for kind in ("speeder", "straightline", "attention"):
        for _ in range(N_PLANTED[kind]):
            row = clean.iloc[donors[k]].copy()
            k += 1
            # A new person in the same community: demographics redrawn, answers shuffled across people.
            for iid in likert:
                row[iid] = clean[iid].iloc[rng.integers(n_clean)]
            row["gender"] = float(rng.integers(1, 3))
            row["role"] = float(rng.choice([1, 2, 3, 4], p=[0.7, 0.1, 0.1, 0.1]))
            if kind == "straightline":
                value = float(rng.choice([3, 4, 5]))
                for iid in likert:
                    row[iid] = value
                row["AC1"] = value
            elif kind == "attention":
                for iid in likert:
                    row[iid] = float(rng.integers(1, 6))
                row["AC1"] = float(rng.integers(2, 6))
            planted_rows.append(row)
            kinds.append(kind)
    dup_sources = rng.choice(n_clean, size=N_PLANTED["duplicate"], replace=False)
    for src in dup_sources:
        planted_rows.append(clean.iloc[src].copy())
        kinds.append("duplicate")
    planted = pd.DataFrame(planted_rows).reset_index(drop=True)

    everyone = pd.concat([clean, planted], ignore_index=True)
    n_all = everyone.shape[0]
    kind_all = np.array(["clean"] * n_clean + kinds, dtype=object)
    source_of = np.full(n_all, -1)
    source_of[n_clean + len(kinds) - len(dup_sources):] = dup_sources

    # Submission times over two weeks; duplicates come 5–90 minutes after their original.
    start = pd.Timestamp("2026-05-11 08:00:00")
    offsets = np.sort(rng.uniform(0, 14 * 24 * 3600, n_all))
    order = rng.permutation(n_all)
    submitted = np.empty(n_all, dtype="datetime64[ns]")
    submitted[order] = (start + pd.to_timedelta(offsets, unit="s")).to_numpy()
    is_dup = kind_all == "duplicate"
    submitted[is_dup] = submitted[source_of[is_dup]] + pd.to_timedelta(rng.uniform(300, 5400, is_dup.sum()), unit="s").to_numpy()
    seconds = np.exp(np.log(DURATION_MEDIAN) + DURATION_SDLOG * rng.normal(0, 1, n_all))
    seconds[kind_all == "speeder"] = rng.uniform(50, 110, (kind_all == "speeder").sum())
    seconds = np.round(seconds)
    ips = np.array([f"{rng.choice([36, 58, 117, 223])}.{rng.integers(1, 255)}.{rng.integers(1, 255)}.{rng.integers(1, 255)}"
                    for _ in range(n_all)], dtype=object)
    ips[is_dup] = ips[source_of[is_dup]]
    channel = rng.choice(["微信", "手机提交", "链接"], size=n_all, p=[0.7, 0.2, 0.1])

    everyone["_submitted"] = pd.to_datetime(submitted).floor("s")
    everyone["_seconds"] = seconds
    everyone["_channel"] = channel
    everyone["_channel_detail"] = pd.Series([None] * n_all, dtype=object)
    everyone["_ip"] = ips
    everyone["_kind"] = kind_all
    everyone["_uid"] = np.arange(n_all)
    everyone = everyone.sort_values("_submitted", kind="stable").reset_index(drop=True)
    everyone.index = pd.RangeIndex(1, n_all + 1, name="序号")
    wjx_id_of_uid = pd.Series(everyone.index, index=everyone["_uid"].to_numpy())
    duplicate_of = {
        str(int(wjx_id_of_uid[uid])): int(wjx_id_of_uid[src])
        for uid, src in enumerate(source_of) if src >= 0
    }
    truth_planted = {kind: [int(i) for i in everyone.index[everyone["_kind"] == kind]] for kind in N_PLANTED}
    clean_ids = [int(i) for i in everyone.index[everyone["_kind"] == "clean"]]
    responses = everyone.drop(columns=["_kind", "_uid"])

    segments, codebook, cases, transcripts = _interviews(rng, communities, w, u)

    truth = {
        "seed": seed,
        "n_clean": n_clean,
        "n_total": int(n_all),
        "planted": truth_planted,
        "clean_ids": clean_ids,
        "duplicate_of": duplicate_of,
        "model": {
            "communities": [{"street": s, "site": c, "intercept": float(u[k]),
                             "dimension_effects": {d: float(w[k, j]) for j, d in enumerate(CAPACITY)}}
                            for k, (s, c) in enumerate(communities)],
            "community_sd": COMMUNITY_SD,
            "icc_general_capacity": COMMUNITY_SD**2 / (COMMUNITY_SD**2 + 1),
            "second_order_loading": SECOND_ORDER,
            "performance_shift": PERFORMANCE_SHIFT,
            "importance_shift": IMPORTANCE_SHIFT,
            "thresholds": THRESHOLDS.tolist(),
            "item_loadings": loadings,
            "structural": STRUCTURAL,
            "weak_communities": {d: {"sites": v[0], "shift": v[1]} for d, v in WEAK_COMMUNITIES.items()},
            "missing_rate": MISSING_RATE,
            "duration": {"median_seconds": DURATION_MEDIAN, "sdlog": DURATION_SDLOG, "speeders": [50, 110]},
        },
        "weak_dimensions": ["reserves", "psych_support", "warning"],
        "interviews": {"topics_per_interview": INTERVIEW_TOPICS,
                       "barrier_logit": "-a*performance_shift[d] - b*(dimension_effect[site,d] + intercept[site])",
                       "a": BARRIER_SLOPE_DIMENSION, "b": BARRIER_SLOPE_SITE, "second_coder_agreement": 0.85,
                       "names_in_text": "some coded segments contain the interviewee's own name (pseudonymisation test)"},
        "formats": {
            "xlsx": "Wenjuanxing download by option text (按选项文本); missing answers as (空)",
            "csv": "Wenjuanxing download by option number (按选项序号), saved as GBK CSV; missing answers as -3",
            "sav": "SPSS with value labels; missing answers as user-missing 99; duration, submitted, ip as extra variables",
        },
    }
    return {"responses": responses, "segments": segments, "codebook": codebook, "cases": cases,
            "transcripts": transcripts, "truth": truth}


# ----------------------------------------------------------------------------- interviews
CODEBOOK = [
    # code, parent, dimension, polarity, description, sentences
    ("预案流于形式", "事前准备", "plans", "barrier", "应急预案停留在纸面、演练走过场",
     ["我们的预案是按上级模板写的，真出事的时候基本用不上。", "演练一年搞一次，大多是拍照留痕，居民参加的很少。"]),
    ("演练常态化", "事前准备", "plans", "facilitator", "定期组织演练、预案可操作",
     ["我们每个季度都会搞一次小规模演练，大家心里有数。", "预案里把每个人负责什么写得很清楚，出事就按预案来。"]),
    ("物资储备不足", "事前准备", "reserves", "barrier", "防护用品和生活物资储备不足、调配困难",
     ["刚开始那几天口罩和消毒液根本不够，只能到处去借。", "社区没有专门的仓库，物资堆在活动室里，也没有台账。", "居民要的米面油我们协调不过来，只能等街道统一配送。"]),
    ("物资调配及时", "事前准备", "reserves", "facilitator", "物资储备充足、调配及时",
     ["物资我们平时就有储备，封控的时候两天内就发到各家各户了。", "和周边超市签了保供协议，生活物资基本没断过。"]),
    ("信息上报滞后", "事前准备", "warning", "barrier", "异常情况发现和上报滞后",
     ["很多情况都是居民打电话来我们才知道，已经晚了。", "上报要层层走流程，等批下来事情已经扩散了。"]),
    ("早发现早报告", "事前准备", "warning", "facilitator", "监测预警灵敏",
     ["网格里谁发烧了，楼栋长当天就能报上来。"]),
    ("培训不足", "事前准备", "training", "barrier", "工作人员和居民培训不足",
     ["我们这些社工大多没受过专门的培训，都是边干边学。"]),
    ("宣传教育到位", "事前准备", "training", "facilitator", "防护知识宣传充分",
     ["防护知识我们通过讲座和短视频讲了很多遍，老人也基本会了。"]),
    ("多部门协同不畅", "事中响应", "response", "barrier", "与街道、卫生机构、物业协同不畅",
     ["物业、卫生服务中心和我们各管一摊，协调起来很费劲。"]),
    ("联防联控有力", "事中响应", "response", "facilitator", "响应迅速、多方联动",
     ["接到通知后一个小时我们就把人员都安排到位了，物业和志愿者配合得很好。"]),
    ("信息发布混乱", "事中响应", "information", "barrier", "信息发布不一致、不及时",
     ["群里的通知一天改好几次，居民都不知道该听哪个。"]),
    ("多渠道及时发布", "事中响应", "information", "facilitator", "多渠道及时发布权威信息",
     ["每天的通报我们都会同步发到微信群和公告栏，居民反映挺及时的。"]),
    ("网格员人手不足", "事中响应", "grid", "barrier", "网格员人手不足、负担过重",
     ["一个网格员要管四五百户，入户排查根本跑不过来。", "我叫{name}，我一个人包两个网格，天天加班也排查不完。"]),
    ("网格排查到位", "事中响应", "grid", "facilitator", "网格排查细致、重点人群有人管",
     ["独居老人我们都建了台账，网格员每天打电话问一遍。"]),
    ("困难帮扶缺位", "事后恢复", "recovery", "barrier", "事后对困难家庭帮扶不足",
     ["解封以后有些家庭收入断了，社区能做的帮扶很有限。"]),
    ("秩序恢复较快", "事后恢复", "recovery", "facilitator", "事后秩序恢复较快、注重总结",
     ["解封后一周菜市场和小区的生活基本就恢复正常了。"]),
    ("心理服务缺位", "事后恢复", "psych_support", "barrier", "心理疏导服务缺失或不专业",
     ["隔离时间长了很多人情绪不好，可是社区没有懂心理的人。", "我{name}自己也很焦虑，但从来没有人关心过一线人员的心理状态。", "说是有心理热线，但居民都不知道号码，也没人去宣传。"]),
    ("心理疏导到位", "事后恢复", "psych_support", "facilitator", "有心理疏导或转介服务",
     ["街道请了心理咨询师来社区坐班，有需要的居民可以去聊聊。"]),
]
PARENTS = {"事前准备": "事前（缩减与预备）阶段的能力", "事中响应": "事中（响应）阶段的能力", "事后恢复": "事后（恢复）阶段的能力"}
INTERVIEW_ROLES = [("社区书记", "cadre"), ("社区干部", "cadre"), ("网格员", "grid_worker"), ("居民", "resident"), ("志愿者", "volunteer")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "丽华", "秀英", "志强", "海燕", "国庆", "红梅", "立新", "桂兰", "春生", "晓东", "玉梅", "文杰", "淑珍", "明亮", "凤英", "德明", "小燕", "永刚", "静"]
QUESTIONS = {
    "plans": "访谈者：社区的应急预案和演练情况怎么样？",
    "reserves": "访谈者：疫情期间物资储备和调配情况如何？",
    "warning": "访谈者：异常情况一般是怎么发现、怎么上报的？",
    "training": "访谈者：社区开展过哪些培训和宣传？",
    "response": "访谈者：事件发生后，社区和其他部门是怎么配合的？",
    "information": "访谈者：防控信息是怎么发布给居民的？",
    "grid": "访谈者：网格化管理在防控中发挥了什么作用？",
    "recovery": "访谈者：事件平息后，恢复工作做得怎么样？",
    "psych_support": "访谈者：居民和工作人员的心理状况有人关注吗？",
}


def _interviews(rng: np.random.Generator, communities, w: np.ndarray, u: np.ndarray):
    codebook = pd.DataFrame(
        [{"code": p, "parent": "", "description": d, "dimension": "", "polarity": ""} for p, d in PARENTS.items()]
        + [{"code": c, "parent": p, "description": desc, "dimension": dim, "polarity": pol}
           for c, p, dim, pol, desc, _ in CODEBOOK]
    )
    sentences = {(dim, pol): (c, s) for c, _, dim, pol, _, s in CODEBOOK}
    sites = list(range(len(communities)))
    chosen_sites = rng.choice(sites, size=10, replace=False)
    case_rows, seg_rows, transcripts = [], [], {}
    used_names: set[str] = set()
    n = 0
    for site_k in chosen_sites:
        street, site = communities[site_k]
        for role_zh, role_en in rng.choice(np.array(INTERVIEW_ROLES, dtype=object), size=2, replace=False):
            n += 1
            case = f"I{n:02d}"
            while True:
                name = SURNAMES[rng.integers(len(SURNAMES))] + GIVEN[rng.integers(len(GIVEN))]
                if name not in used_names:
                    used_names.add(name)
                    break
            case_rows.append({"case": case, "name": name, "site": site, "street": street, "role": role_en, "role_zh": role_zh})
            source = f"{case}.txt"
            parts = [f"受访者：{name}（{site}，{role_zh}）\n", "访谈者：您好，今天想请您谈谈社区应对突发公共卫生事件的情况。\n"]
            pos = sum(len(p) for p in parts)
            coded = []
            dims = list(QUESTIONS)
            rng.shuffle(dims)
            for dim in dims[:INTERVIEW_TOPICS]:
                site_effect = w[site_k, CAPACITY.index(dim)] + u[site_k]
                logit = -BARRIER_SLOPE_DIMENSION * PERFORMANCE_SHIFT[dim] - BARRIER_SLOPE_SITE * site_effect
                p_barrier = 1 / (1 + np.exp(-logit))
                polarity = "barrier" if rng.random() < p_barrier else "facilitator"
                code, options = sentences.get((dim, polarity)) or sentences[(dim, "barrier")]
                q = QUESTIONS[dim] + "\n"
                parts.append(q)
                pos += len(q)
                answer = "受访者：" + options[rng.integers(len(options))].format(name=name)
                start = pos + len("受访者：")
                end = pos + len(answer)
                parts.append(answer + "\n")
                pos += len(answer) + 1
                coded.append((code, start, end, answer[len("受访者："):]))
            text = "".join(parts)
            transcripts[source] = text
            for code, start, end, seg_text in coded:
                assert text[start:end] == seg_text
                seg_rows.append({"source": source, "case": case, "coder": "coder_A", "code": code,
                                 "start": start, "end": end, "text": seg_text, "site": site, "role": role_en})
                if n <= 6:  # a second coder codes the first six transcripts
                    agree = rng.random() < 0.85
                    alt = code if agree else _other_code(rng, code)
                    seg_rows.append({"source": source, "case": case, "coder": "coder_B", "code": alt,
                                     "start": start, "end": end, "text": seg_text, "site": site, "role": role_en})
    return pd.DataFrame(seg_rows), codebook, pd.DataFrame(case_rows), transcripts


def _other_code(rng: np.random.Generator, code: str) -> str:
    codes = [c for c, *_ in CODEBOOK if c != code]
    return codes[rng.integers(len(codes))]


def write_example_study(folder: str | Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Simulate the study and write it in every format: Wenjuanxing xlsx (option text),
    Wenjuanxing CSV (option numbers, GBK), SPSS ``.sav``, interview segments, codebook,
    cases and transcripts, ``truth.json``, and the expert files of the evaluation index
    system (:func:`govsurvey.datasets.experts.write_expert_files`)."""
    from govsurvey.datasets import example_files

    study = simulate_study(seed)
    inst = _instrument()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = {k: folder / p.name for k, p in example_files().items()}
    r = study["responses"]
    write_wenjuanxing(r, inst, names["xlsx"], BLOCKS, layout="text")
    write_wenjuanxing(r, inst, names["csv"], BLOCKS, layout="number", encoding="gbk")
    write_sav(r.rename_axis("id"), inst, names["sav"],
              extra={"_seconds": "duration", "_submitted": "submitted", "_ip": "ip"})
    write_atomic(names["segments"], lambda p: study["segments"].to_csv(p, index=False, encoding="utf-8"))
    write_atomic(names["codebook"], lambda p: study["codebook"].to_csv(p, index=False, encoding="utf-8"))
    write_atomic(names["cases"], lambda p: study["cases"].to_csv(p, index=False, encoding="utf-8"))
    tdir = folder / "transcripts"
    tdir.mkdir(exist_ok=True)
    for source, text in study["transcripts"].items():
        write_text_atomic(tdir / source, text)
    from govsurvey.data.qda import write_qdpx
    from govsurvey.qualitative.coded import build_interviews

    coded = build_interviews(study["segments"][["source", "case", "coder", "code", "start", "end", "text"]], study["codebook"],
                             study["cases"].set_index("case"), identifying=("name",))
    write_qdpx(coded, names["qdpx"], texts=study["transcripts"], include_identifying=True)
    write_text_atomic(names["truth"], json.dumps(study["truth"], ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    from govsurvey.datasets.experts import write_expert_files

    write_expert_files(folder)          # the Delphi and AHP files (their own seed: the same for every survey seed)
    return names
