"""Synthetic province-scale facts: a realistic, deterministic province for one pack.

``synthesize(pack_id, orders=..., seed=...)`` returns one Polars DataFrame per fact kind:
enterprises, institutions of three levels, batches, agreements, orders (with responses,
deliveries and due instants), complaints, demand reports, monthly purchase summaries,
enterprise quarterly statistics, listings, exemption events, settlements and
prepayments, over one agreement cycle (2024-07-01 .. 2025-06-30, which spans National
Day, New Year and the Spring Festival, with their make-up working days).

Values are placed around the pack's thresholds so that rules fire on both sides of
each bound: response delays at exactly 48 h and 48 h + 1 s, delivery rates near 90 %,
response rates near 95 %, demand-report changes near -20 % and +150 %, listing prices
at and above the ceiling, purchase progress near the time-proportional line. The same
seed always gives the same tables. Instants are Asia/Shanghai-aware Datetime columns,
dates are Date columns, money is Decimal(18, 2).

>>> tables = synthesize(orders=200, seed=1)
>>> tables["orders"].height
200
>>> synthesize(orders=50, seed=3)["orders"].equals(synthesize(orders=50, seed=3)["orders"])
True
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Final

__all__ = ["CYCLE_END", "CYCLE_START", "synthesize", "write_synthetic"]

CYCLE_START: Final = date(2024, 7, 1)
CYCLE_END: Final = date(2025, 6, 30)
_US_H: Final = 3_600_000_000
_US_S: Final = 1_000_000
_TZ: Final = "Asia/Shanghai"


def _instants(pl: Any, us: Any, name: str) -> Any:
    return (
        pl.Series(name, us, dtype=pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(_TZ)
    )


def _days(pl: Any, days: Any, name: str) -> Any:
    return pl.Series(name, days, dtype=pl.Int32).cast(pl.Date)


def _money(pl: Any, fen: Any, name: str) -> Any:
    return (pl.Series(name, fen, dtype=pl.Int64).cast(pl.Decimal(18, 0)) / 100).cast(
        pl.Decimal(18, 2)
    )


def synthesize(  # noqa: PLR0915 - one table after another, in reading order
    pack_id: str = "jiangxi-2024", *, orders: int = 10_000, seed: int = 7
) -> dict[str, Any]:
    """A synthetic province as ``{kind: polars.DataFrame}``, deterministic by ``seed``.

    Args:
        pack_id: the pack the thresholds are placed around (the fact kinds are shared by
            every pack; the default bounds are Jiangxi's).
        orders: number of order lines; the other kinds scale with it.
        seed: the random seed.
    """
    import numpy as np  # noqa: PLC0415 - optional extra (frame)
    import polars as pl  # noqa: PLC0415 - optional extra (frame)

    del pack_id  # every pack reads the same fact kinds; bounds are placed for all of them
    rng = np.random.default_rng(seed)
    n = int(orders)
    n_ent = max(2, min(400, n // 2000 + 2))
    n_prod_per = 3
    n_inst = max(3, min(3000, n // 300 + 3))
    n_gen = max(2, min(60, n // 5000 + 2))
    epoch = date(1970, 1, 1).toordinal()
    d0 = CYCLE_START.toordinal() - epoch
    d1 = CYCLE_END.toordinal() - epoch
    ent_ids = np.array([f"E{i:04d}" for i in range(n_ent)])
    inst_ids = np.array([f"H{i:05d}" for i in range(n_inst)])
    generics = np.array([f"G{i:03d}" for i in range(n_gen)])
    out: dict[str, Any] = {}

    out["enterprises"] = pl.DataFrame({"id": ent_ids, "name": [f"企业{i}" for i in range(n_ent)]})
    levels = np.array(["primary", "secondary", "tertiary"])[rng.integers(0, 3, n_inst)]
    out["institutions"] = pl.DataFrame(
        {
            "id": inst_ids,
            "name": [f"医院{i}" for i in range(n_inst)],
            "level": levels,
            "county_medical_community_id": [f"CMC{i % 7}" for i in range(n_inst)],
            "city": [f"City{i % 11}" for i in range(n_inst)],
            "public": rng.random(n_inst) < 0.9,
        }
    )
    # batches: publication lead around 20 working days, ratio limits around 30 %
    out["batches"] = pl.DataFrame(
        {
            "id": ["B1", "B2", "B3"],
            "name": ["第九批", "第十批", "耗材"],
            "execution_document_published_on": [date(2024, 5, 31), date(2024, 6, 3), None],
            "landing_date": [date(2024, 7, 1), date(2024, 7, 1), date(2024, 7, 1)],
            "cycle_start": [CYCLE_START] * 3,
            "cycle_end": [CYCLE_END] * 3,
            "non_selected_share_limit": [None, "40%", "25%"],
        }
    )

    # orders --------------------------------------------------------------------------
    ent_of = rng.integers(0, n_ent, n)
    prod_of = rng.integers(0, n_prod_per, n)
    sent_day = rng.integers(d0, d1 + 1, n)
    sent_us = sent_day.astype(np.int64) * 86_400 * _US_S - 8 * _US_H
    sent_us += rng.integers(7 * 3600, 20 * 3600, n).astype(np.int64) * _US_S
    # response delay: mostly quick; some at exactly 48 h, 48 h + 1 s, or never
    u = rng.random(n)
    quality = (ent_of * 7 + prod_of) % 10  # some enterprise-products respond worse
    delay = rng.integers(1, 47 * 3600, n).astype(np.int64) * _US_S
    delay = np.where(u < 0.02, 48 * _US_H, delay)
    delay = np.where((u >= 0.02) & (u < 0.04), 48 * _US_H + _US_S, delay)
    delay = np.where((u >= 0.04) & (u < 0.06), rng.integers(49, 120, n) * _US_H, delay)
    never = rng.random(n) < np.where(quality < 3, 0.08, 0.02)
    responded = sent_us + delay
    due = sent_us + 72 * _US_H
    late = rng.random(n) < np.where(quality < 4, 0.12, 0.05)
    on_due = rng.random(n) < 0.05
    deliv = np.where(late, due + rng.integers(1, 48 * 3600, n) * _US_S, due - 3 * _US_H)
    deliv = np.where(on_due, due, deliv)
    undelivered = rng.random(n) < 0.02
    qty = rng.integers(1, 200, n)
    dqty = np.where(undelivered, 0, qty - (rng.random(n) < 0.03) * (qty // 2))
    gen_of = (ent_of * n_prod_per + prod_of) % n_gen
    o = pl.DataFrame(
        {
            "id": [f"O{i:08d}" for i in range(n)],
            "batch_id": np.array(["B1", "B2", "B3"])[gen_of % 3],
            "institution_id": inst_ids[rng.integers(0, n_inst, n)],
            "enterprise_id": ent_ids[ent_of],
            "product_id": np.char.add(np.char.add(ent_ids[ent_of], "-P"), prod_of.astype(str)),
            "generic_name": generics[gen_of],
        }
    )
    o = o.with_columns(
        _instants(pl, sent_us, "sent_at"),
        _instants(pl, responded, "responded_at").set(pl.Series(never), None),
        pl.Series("ordered_quantity", qty, dtype=pl.Int64),
        pl.Series("delivered_quantity", dqty, dtype=pl.Int64),
        _instants(pl, deliv, "delivered_at").set(pl.Series(undelivered), None),
        _instants(pl, due, "delivery_due_at"),
        _money(pl, qty * rng.integers(100, 5000, n), "amount"),
    )
    out["orders"] = o

    # agreements: one per institution x generic (bounded), some signed late or never
    n_agr = max(3, min(n_inst * n_gen, n // 10 + 3))
    a_inst = rng.integers(0, n_inst, n_agr)
    a_gen = rng.integers(0, n_gen, n_agr)
    a_ent = a_gen % n_ent
    cs_us = d0 * 86_400 * _US_S - 8 * _US_H
    signed = cs_us + rng.integers(-20 * 24 * 3600, 3 * 24 * 3600, n_agr) * _US_S
    first = cs_us + rng.integers(0, 100 * 24 * 3600, n_agr) * _US_S
    out["agreements"] = pl.DataFrame(
        {
            "id": [f"A{i:07d}" for i in range(n_agr)],
            "batch_id": np.array(["B1", "B2", "B3"])[a_gen % 3],
            "institution_id": inst_ids[a_inst],
            "enterprise_id": ent_ids[a_ent],
            "product_id": np.char.add(ent_ids[a_ent], "-P0"),
            "generic_name": generics[a_gen],
            "agreed_quantity": rng.integers(100, 5000, n_agr),
        }
    ).with_columns(
        _instants(pl, signed, "signed_at").set(pl.Series(rng.random(n_agr) < 0.03), None),
        _days(pl, np.full(n_agr, d0), "cycle_start"),
        _days(pl, np.full(n_agr, d1), "cycle_end"),
        _instants(pl, first, "first_purchase_at").set(pl.Series(rng.random(n_agr) < 0.05), None),
    )

    # complaints: reply around 2 working days, commitments around 5 working days
    n_c = max(3, n // 50)
    c_ent = rng.integers(0, n_ent, n_c)
    raised_day = rng.integers(d0, d1 + 1, n_c)
    raised = raised_day * 86_400 * _US_S - 8 * _US_H + rng.integers(0, 86_400, n_c) * _US_S
    reply = raised + rng.integers(1, 6 * 24 * 3600, n_c) * _US_S
    commit = reply + rng.integers(1, 9 * 24 * 3600, n_c) * _US_S
    resolved = commit + rng.integers(-3 * 24 * 3600, 2 * 24 * 3600, n_c) * _US_S
    resolved = np.maximum(resolved, raised)
    no_reply = rng.random(n_c) < 0.05
    out["complaints"] = pl.DataFrame(
        {
            "id": [f"C{i:07d}" for i in range(n_c)],
            "institution_id": inst_ids[rng.integers(0, n_inst, n_c)],
            "enterprise_id": ent_ids[c_ent],
            "product_id": np.char.add(ent_ids[c_ent], "-P0"),
        }
    ).with_columns(
        _instants(pl, raised, "raised_at"),
        _instants(pl, reply, "replied_at").set(pl.Series(no_reply), None),
        _instants(pl, commit, "committed_resolution_at").set(pl.Series(no_reply), None),
        _instants(pl, resolved, "resolved_at").set(pl.Series(rng.random(n_c) < 0.1), None),
        pl.Series("unresolvable", rng.random(n_c) < 0.03),
    )

    # demand reports: changes around -20 % and +150 %
    n_d = max(3, min(n_inst * n_gen, n // 20 + 3))
    last = rng.integers(0, 2000, n_d)
    factor = rng.choice(
        np.array([80, 79, 81, 250, 251, 249, 100, 120, 0]), n_d
    )  # percent of last year
    reported = last * factor // 100
    out["demand_reports"] = pl.DataFrame(
        {
            "id": [f"D{i:07d}" for i in range(n_d)],
            "batch_id": np.array(["B1", "B2", "B3"])[np.arange(n_d) % 3],
            "institution_id": inst_ids[np.arange(n_d) % n_inst],
            "generic_name": generics[(np.arange(n_d) // n_inst) % n_gen],
            "reported_quantity": reported,
        }
    ).with_columns(
        pl.Series("last_year_actual_quantity", last, dtype=pl.Int64).set(
            pl.Series(rng.random(n_d) < 0.05), None
        )
    )

    # monthly purchase summaries per institution x generic
    months = [date(2024 + (6 + m) // 12, (6 + m) % 12 + 1, 1) for m in range(12)]
    ends = [*[m.replace(day=1) for m in months[1:]], date(2025, 7, 1)]
    pairs = max(2, min(n_inst * n_gen, n // 120 + 2))
    p_inst = np.arange(pairs) % n_inst
    p_gen = (np.arange(pairs) // n_inst) % n_gen
    rows = pairs * 12
    mi = np.tile(np.arange(12), pairs)
    agreed = np.repeat(rng.integers(1200, 6000, pairs), 12)
    pace = np.repeat(rng.choice(np.array([95, 100, 105, 99]), pairs), 12)
    cum = agreed * (mi + 1) * pace // 1200
    sel = agreed * pace // 1200
    non_sel = sel * rng.choice(np.array([10, 30, 43, 45, 60]), rows) // 100
    subst = rng.integers(0, 300, rows)
    out["purchase_summaries"] = pl.DataFrame(
        {
            "id": [f"S{i:07d}" for i in range(rows)],
            "batch_id": np.array(["B1", "B2", "B3"])[np.repeat(p_gen, 12) % 3],
            "institution_id": inst_ids[np.repeat(p_inst, 12)],
            "generic_name": generics[np.repeat(p_gen, 12)],
            "agreed_quantity": agreed,
            "selected_quantity": sel,
            "cumulative_selected_quantity": cum,
            "non_selected_quantity": non_sel,
            "substitutable_quantity": subst,
            "last_year_substitutable_quantity": np.maximum(subst + rng.integers(-5, 5, rows), 0),
            "emergency_backup_quantity": rng.integers(0, 3, rows),
            "cheaper_equivalent_quantity": np.minimum(non_sel, rng.integers(0, 20, rows)),
            "reported_demand": rng.random(rows) < 0.9,
        }
    ).with_columns(
        pl.Series("period_start", [months[i] for i in mi], dtype=pl.Date),
        pl.Series("period_end", [date.fromordinal(ends[i].toordinal() - 1) for i in mi]),
        _days(pl, np.full(rows, d0), "cycle_start"),
        _days(pl, np.full(rows, d1), "cycle_end"),
    )

    # enterprise quarterly statistics: rates around 90 % and 95 %
    quarters = [date(2024, 7, 1), date(2024, 10, 1), date(2025, 1, 1), date(2025, 4, 1)]
    q_ends = [date(2024, 9, 30), date(2024, 12, 31), date(2025, 3, 31), date(2025, 6, 30)]
    qn = n_ent * 4
    q_orders = rng.integers(100, 1000, qn) // 10 * 10 + 200
    q_timely = q_orders * rng.choice(np.array([89, 90, 91, 85, 70, 95]), qn) // 100
    q_resp = q_orders * rng.choice(np.array([94, 95, 96, 100]), qn) // 100
    out["enterprise_period_stats"] = pl.DataFrame(
        {
            "id": [f"Q{i:06d}" for i in range(qn)],
            "enterprise_id": ent_ids[np.arange(qn) // 4],
            "period_start": [quarters[i % 4] for i in range(qn)],
            "period_end": [q_ends[i % 4] for i in range(qn)],
            "orders": q_orders,
            "responded_orders": q_resp,
            "timely_delivered_orders": q_timely,
        }
    )

    # listings: prices at, below and above the ceiling
    ln = max(60, n_ent * n_prod_per)
    ceiling = rng.integers(1000, 100000, ln)
    price = ceiling + rng.choice(np.array([-100, 0, 0, 1, 500]), ln)
    out["listings"] = pl.DataFrame(
        {
            "id": [f"L{i:06d}" for i in range(ln)],
            "product_id": [
                f"{ent_ids[i // n_prod_per % n_ent]}-P{i % n_prod_per}" for i in range(ln)
            ],
            "generic_name": generics[np.arange(ln) % n_gen],
            "enterprise_id": ent_ids[np.arange(ln) // n_prod_per % n_ent],
            "selected": rng.random(ln) < 0.5,
        }
    ).with_columns(_money(pl, price, "listing_price"), _money(pl, ceiling, "max_listing_price"))

    # exemption events: some inside the cycle, some outside, some not clinical
    en = max(2, n_inst // 20)
    kinds = np.array(["key_monitoring_list", "public_health_event", "guideline_change"])
    starts = rng.integers(d0 - 400, d1 + 30, en)
    out["exemption_events"] = pl.DataFrame(
        {
            "id": [f"X{i:05d}" for i in range(en)],
            "kind": kinds[np.arange(en) % 3],
            "institution_id": inst_ids[rng.integers(0, min(n_inst, pairs), en)],
            "generic_name": generics[rng.integers(0, n_gen, en)],
            "changed_clinical_demand": rng.random(en) < 0.8,
        }
    ).with_columns(
        _days(pl, starts, "starts_on"),
        _days(pl, starts + rng.integers(0, 200, en), "ends_on"),
    )

    # settlements: paid around 30 days after acceptance
    sn = max(3, n // 40)
    acc = d0 * 86_400 * _US_S + rng.integers(0, 360 * 86_400, sn) * _US_S
    paid = acc + rng.integers(1, 45 * 86_400, sn) * _US_S
    s_ent = rng.integers(0, n_ent, sn)
    out["settlements"] = pl.DataFrame(
        {
            "id": [f"T{i:07d}" for i in range(sn)],
            "institution_id": inst_ids[rng.integers(0, n_inst, sn)],
            "enterprise_id": ent_ids[s_ent],
            "product_id": np.char.add(ent_ids[s_ent], "-P0"),
        }
    ).with_columns(
        _instants(pl, acc, "accepted_at"),
        _instants(pl, paid, "paid_at").set(pl.Series(rng.random(sn) < 0.05), None),
        _money(pl, rng.integers(1000, 10_000_000, sn), "amount"),
    )
    annual = rng.integers(100_000, 10_000_000, n_inst)
    out["prepayments"] = pl.DataFrame(
        {
            "id": [f"PP{i:05d}" for i in range(n_inst)],
            "institution_id": inst_ids,
            "year": np.full(n_inst, 2024),
        }
    ).with_columns(
        _money(pl, annual, "annual_agreed_amount"),
        _money(pl, annual * rng.choice(np.array([29, 30, 31]), n_inst) // 100, "prepaid_amount"),
    )
    return out


def write_synthetic(
    out_dir: str | os.PathLike[str],
    pack_id: str = "jiangxi-2024",
    *,
    orders: int = 10_000,
    seed: int = 7,
) -> dict[str, Path]:
    """Write :func:`synthesize` as one Parquet file per kind (``orders.parquet``, ...)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, frame in synthesize(pack_id, orders=orders, seed=seed).items():
        path = folder / f"{kind}.parquet"
        frame.write_parquet(path)
        paths[kind] = path
    return paths
