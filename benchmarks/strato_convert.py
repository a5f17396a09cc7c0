"""Strato converter throughput: Bestellingen.xml -> Acumulus invoice CSVs vs a bare lxml pass.

The baseline is the floor no streaming converter can beat: ``lxml.etree.iterparse`` over the same
file, yielding each ``<Order>`` and clearing it (and its read siblings) — no field is read. The
converter run is the real thing: ``convert_strato`` with every validation (amount parsing, dated
VAT rates, duplicate numbers, line and order totals, the totals check) and every output file
(one CSV per payment method, the summary JSON). Both run in the same process, alternately,
``--repeat`` times; the best CPU time (``time.process_time``) of each counts, because the machines
this runs on are shared and other processes' load would otherwise decide the ratio. Wall times
are printed beside it.

Memory: the conversion also runs in a child process (fresh interpreter) whose peak RSS is read
from ``getrusage``; ``--memory-orders 1000000`` does that for a million orders (goal <= 100 MB).

Run: ``python -m benchmarks.strato_convert [--orders 100000] [--memory-orders N] [--keep DIR]``.
Generated files go to a temporary directory (never the repository). The last line is JSON:
``{"name", "metric", "value", "baseline", "ratio", "goal", "ok"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

GOAL_RATIO = 3.5
GOAL_RSS_MB = 100.0
CENT = Decimal("0.01")

_FIRST = (
    "Jan",
    "Anna",
    "Pieter",
    "Sanne",
    "Kees",
    "Fatima",
    "Lars",
    "Eva",
    "Mohammed",
    "Julia",
    "Daan",
    "Lotte",
)
_LAST = ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Bos", "Peters")
_CITIES = (
    ("Utrecht", "3511 AB"),
    ("Amsterdam", "1012 JS"),
    ("Rotterdam", "3011 AD"),
    ("Zwolle", "8011 CW"),
    ("Groningen", "9711 LM"),
    ("Eindhoven", "5611 AZ"),
    ("Haarlem", "2011 VB"),
)
_PRODUCTS = (
    ("THEE-01", "Losse thee Earl Grey 100 g", "7.95", "9"),
    ("POT-12", "Theepot gietijzer 1,2 l", "34.50", "21"),
    ("KOP-02", "Theekop porselein", "6.25", "21"),
    ("BOEK-7", "Thee, een wereldgeschiedenis", "24.99", "9"),
    ("FILT-3", "Theefilters (100 stuks)", "3.49", "21"),
    ("HON-9", "Bloemenhoning 450 g", "8.75", "9"),
)
_METHODS = ("PayPal", "Vorkasse", "iDEAL", "Bankoverschrijving", "Kreditkarte", "PayPal")


def generate(path: str | os.PathLike, orders: int, seed: int = 2024) -> dict[str, Decimal]:
    """Write a Bestellingen.xml of ``orders`` orders (reference shape, gross prices, NL shop).

    Returns the totals the orders state: ``{"total_inc": ..., "total_vat": ..., "orders": n}``.
    Memory stays flat: orders are written as they are made.
    """
    rng = random.Random(seed)
    total_inc = Decimal(0)
    total_vat = Decimal(0)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<Orders>\n')
        buf: list[str] = []
        for i in range(orders):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            city, zipcode = rng.choice(_CITIES)
            company = f"{last} Thee B.V." if rng.random() < 0.15 else ""
            lines = []
            inc = Decimal(0)
            vat = Decimal(0)
            for _ in range(rng.randint(1, 4)):
                sku, name, price, rate = rng.choice(_PRODUCTS)
                qty = rng.randint(1, 3)
                line_total = Decimal(price) * qty
                r = Decimal(rate)
                inc += line_total
                vat += (line_total * r / (100 + r)).quantize(CENT, ROUND_HALF_UP)
                lines.append(
                    "      <LineItem>\n"
                    f"        <ProductNumber>{sku}</ProductNumber>\n"
                    f"        <Name>{name}</Name>\n"
                    f"        <Quantity>{qty}</Quantity>\n"
                    f"        <UnitPrice>{price}</UnitPrice>\n"
                    f"        <TaxRate>{rate}</TaxRate>\n"
                    f"        <LineTotal>{line_total}</LineTotal>\n"
                    "      </LineItem>\n"
                )
            shipping = Decimal("6.95") if inc < 50 else Decimal("0.00")
            inc += shipping
            vat += (shipping * 21 / 121).quantize(CENT, ROUND_HALF_UP)
            total_inc += inc
            total_vat += vat
            day = 1 + i % 28
            buf.append(
                "  <Order>\n"
                f"    <OrderNumber>{10001 + i}</OrderNumber>\n"
                f"    <CreationDate>2024-{1 + i % 12:02d}-{day:02d}T{8 + i % 12:02d}:{i % 60:02d}:00+01:00"
                "</CreationDate>\n"
                "    <Status>Bezahlt</Status>\n"
                "    <Currency>EUR</Currency>\n"
                "    <LocaleID>nl_NL</LocaleID>\n"
                "    <TaxModel>gross</TaxModel>\n"
                f"    <CustomerNumber>{1000 + rng.randint(1, 20000)}</CustomerNumber>\n"
                "    <BillingAddress>\n"
                f"      <Company>{company}</Company>\n"
                f"      <FirstName>{first}</FirstName>\n"
                f"      <LastName>{last}</LastName>\n"
                f"      <Street>Dorpsstraat {rng.randint(1, 200)}</Street>\n"
                f"      <Zipcode>{zipcode}</Zipcode>\n"
                f"      <City>{city}</City>\n"
                "      <CountryID>NL</CountryID>\n"
                f"      <EMail>{first.lower()}.{i}@example.nl</EMail>\n"
                "      <Phone>030-1234567</Phone>\n"
                "    </BillingAddress>\n"
                "    <ShippingAddress>\n"
                f"      <Company>{company}</Company>\n"
                f"      <FirstName>{first}</FirstName>\n"
                f"      <LastName>{last}</LastName>\n"
                f"      <Street>Dorpsstraat {rng.randint(1, 200)}</Street>\n"
                f"      <Zipcode>{zipcode}</Zipcode>\n"
                f"      <City>{city}</City>\n"
                "      <CountryID>NL</CountryID>\n"
                "    </ShippingAddress>\n"
                "    <ShippingMethod>PostNL pakket</ShippingMethod>\n"
                f"    <PaymentMethod>{rng.choice(_METHODS)}</PaymentMethod>\n"
                "    <PaymentStatus>paid</PaymentStatus>\n"
                "    <LineItems>\n"
                f"{''.join(lines)}"
                "    </LineItems>\n"
                "    <ShippingLineItem>\n"
                "      <Name>Verzendkosten PostNL</Name>\n"
                f"      <Price>{shipping}</Price>\n"
                "      <TaxRate>21</TaxRate>\n"
                "    </ShippingLineItem>\n"
                f"    <TotalTax>{vat}</TotalTax>\n"
                f"    <GrandTotal>{inc}</GrandTotal>\n"
                "  </Order>\n"
            )
            if len(buf) >= 1000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
        fh.write("</Orders>\n")
    return {"orders": Decimal(orders), "total_inc": total_inc, "total_vat": total_vat}


def bare_pass(path: str | os.PathLike) -> int:
    """The floor: iterparse every <Order>, read nothing, clear as we go."""
    from lxml import etree

    n = 0
    for _event, el in etree.iterparse(str(path), events=("end",), tag="Order"):
        n += 1
        el.clear(keep_tail=True)
        parent = el.getparent()
        while el.getprevious() is not None:
            del parent[0]
    return n


def convert(path: str | os.PathLike, out: str | os.PathLike):
    from koppeling.convert.strato import StratoOptions, convert_strato

    return convert_strato(
        orders=path, out_dir=out, options=StratoOptions(cost_center="Webshop A", prefix="WA")
    )


def child_peak_rss_mb(path: Path, out: Path) -> tuple[float, float]:
    """Convert ``path`` in a fresh interpreter; its (peak RSS MB, seconds)."""
    code = (
        "import resource, sys, time; from benchmarks.strato_convert import convert; t=time.perf_counter(); "
        "s=convert(sys.argv[1], sys.argv[2]); d=time.perf_counter()-t; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, d, s.exit_code)"
    )
    root = Path(__file__).resolve().parent.parent
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(root), str(root / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(out)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=root,
    )
    kb, seconds, _exit = done.stdout.split()
    return int(kb) / 1024, float(seconds)


def run(orders: int, memory_orders: int | None, keep: str | None, repeat: int = 3) -> dict[str, object]:
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="strato-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        xml = workdir / "Bestellingen.xml"
        t0 = time.perf_counter()
        stated = generate(xml, orders)
        size_mb = xml.stat().st_size / 1e6
        print(f"generated {orders:,} orders, {size_mb:.1f} MB in {time.perf_counter() - t0:.1f} s")
        base_cpu, conv_cpu, base_wall, conv_wall = [], [], [], []
        summary = None
        for attempt in range(repeat):
            out = workdir / f"out-{attempt}"  # a fresh directory, as a user's --out would be
            w, c = time.perf_counter(), time.process_time()
            n = bare_pass(xml)
            base_cpu.append(time.process_time() - c)
            base_wall.append(time.perf_counter() - w)
            assert n == orders, (n, orders)
            w, c = time.perf_counter(), time.process_time()
            summary = convert(xml, out)
            conv_cpu.append(time.process_time() - c)
            conv_wall.append(time.perf_counter() - w)
            if attempt:  # the previous run's files: removed outside the timed part
                shutil.rmtree(workdir / f"out-{attempt - 1}", ignore_errors=True)
        assert summary is not None
        # CPU time of this process: the machines running this are shared, and other processes'
        # load would otherwise decide the ratio; wall time is printed beside it.
        base, conv = min(base_cpu), min(conv_cpu)
        converted = sum(i.converted for i in summary.inputs)
        # what the customers paid must be booked to the cent; the VAT is Acumulus's per-line
        # computation of the fitted lines, within a cent per line of the shop's own
        ok_totals = (
            summary.totals_match
            and summary.output_total_inc == stated["total_inc"]
            and abs(summary.output_total_vat - stated["total_vat"]) <= Decimal("0.01") * orders * 5
            and converted == orders
        )
        print(
            f"bare lxml iterparse pass: {base:.3f} s CPU, {min(base_wall):.3f} s wall "
            f"({orders / base:,.0f} orders/s)"
        )
        print(
            f"converter (validation, totals check, all outputs): {conv:.3f} s ({orders / conv:,.0f} orders/s)"
        )
        for o in summary.invoice_outputs:
            print(f"  {o.file}: {o.records:,} invoices, excl. {o.total_ex}, incl. {o.total_inc}")
        print(f"totals equal the orders' own totals to the cent: {ok_totals} (exit code {summary.exit_code})")
        ratio = conv / base
        print(
            f"ratio converter / bare pass (CPU time, best of {repeat}): {ratio:.2f} (goal <= {GOAL_RATIO}); "
            f"wall-time ratio {min(conv_wall) / min(base_wall):.2f}"
        )
        rss_mb, _secs = child_peak_rss_mb(xml, workdir / "out-child")
        print(f"peak RSS converting {orders:,} orders in a fresh process: {rss_mb:.1f} MB")
        peaks = {orders: rss_mb}
        if memory_orders:
            big = workdir / "Bestellingen-big.xml"
            generate(big, memory_orders, seed=7)
            print(f"generated {memory_orders:,} orders, {big.stat().st_size / 1e6:.0f} MB")
            big_rss, big_secs = child_peak_rss_mb(big, workdir / "out-big")
            peaks[memory_orders] = big_rss
            print(
                f"peak RSS converting {memory_orders:,} orders: {big_rss:.1f} MB in {big_secs:.1f} s "
                f"(goal <= {GOAL_RSS_MB:.0f} MB)"
            )
            big.unlink()
        mem_ok = all(v <= GOAL_RSS_MB for v in peaks.values())
        return {
            "name": "strato_convert",
            "metric": "CPU seconds per 100k orders, converter vs bare lxml iterparse",
            "value": round(conv * 100_000 / orders, 3),
            "baseline": round(base * 100_000 / orders, 3),
            "ratio": round(ratio, 3),
            "goal": GOAL_RATIO,
            "ok": bool(ratio <= GOAL_RATIO and ok_totals and mem_ok),
        }
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.strato_convert",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--memory-orders",
        type=int,
        default=None,
        help="also measure peak RSS converting this many orders (e.g. 1000000)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", help="keep generated files in this directory")
    args = parser.parse_args(argv)
    result = run(args.orders, args.memory_orders, args.keep, args.repeat)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    _ = resource  # used by the child code string
    sys.exit(main())
