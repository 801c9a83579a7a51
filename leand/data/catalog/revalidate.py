"""``leand data validate``: re-run the checks on what a dataset stores, and verify its files' checksums.

Stored data is never changed here: a ``drop`` policy reports like ``flag``; ``fail`` stops at the first finding.
The dataset's verdict and finding counts in the index are replaced by this run's.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from leand.data.catalog.index import Catalog, Dataset
from leand.data.catalog.ingest import stored_range
from leand.data.catalog.store import ALL_DAYS, file_sha256, key_date, read_block, unpack
from leand.data.catalog.validate import Batch, Finding, Params, Report, Validator


def revalidate(catalog: Catalog, dataset: Dataset, policy: dict[str, str], params: Params | None = None) -> Report:
    from leand.data.catalog.importer import reference_hours

    key = dataset.key
    policy = {k: ("flag" if v == "drop" else v) for k, v in policy.items()}
    if key.kind == "l2_delta":
        return _revalidate_l2(catalog, dataset, policy)
    hours = reference_hours(key.security_type, key.market, key.symbol, catalog.root)
    files = catalog.day_files(dataset)
    sources = [f"{d}.npy" for d in sorted(files)]
    v = Validator(key.kind, key.resolution, hours, policy, sources, params)
    span = stored_range(catalog, dataset)
    whole = ALL_DAYS in files
    prev = None
    for i, day in enumerate(sorted(files)):
        rows, sha = files[day]
        path = catalog.path_of(key, day)
        if not path.is_file():
            v.report.add(Finding("checksum", "flagged", sources[i], 0, 0, f"file missing: {path}"))
            continue
        if file_sha256(path) != sha:
            v.report.add(Finding("checksum", "flagged", sources[i], 0, 0,
                                 "file changed on disk since it was stored (sha256 differs from the index)"))
        c = unpack(key.kind, read_block(path))
        if not whole and span[0] is not None:
            d = key_date(day)
            if prev is not None:
                gap = prev + timedelta(days=1)
                while gap < d:
                    v.missing_day(gap, (span[0], span[1] or span[0]))
                    gap += timedelta(days=1)
            prev = d
        b = Batch(c, np.full(len(c), i, np.int64), np.arange(1, len(c) + 1, dtype=np.int64))
        v.day(b, None if whole else key_date(day), None if span[0] is None else (span[0], span[1] or span[0]))
    report = v.report
    catalog.refresh(dataset, first_ns=None, last_ns=None, verdict=report.verdict(),
                    findings={"counts": dict(sorted(report.counts.items())), "last_validate": report.summary()})
    return report


def _revalidate_l2(catalog: Catalog, dataset: Dataset, policy: dict[str, str]) -> Report:
    from leand.data.catalog.l2 import check_records, CheckState, raw_chunks

    report = Report()
    files = catalog.day_files(dataset)
    st = CheckState()
    for day in sorted(files):
        rows, sha = files[day]
        path = catalog.folder_of(dataset.key) / f"{day}.l2d"
        name = path.name
        if not path.is_file():
            report.add(Finding("checksum", "flagged", name, 0, 0, f"file missing: {path}"))
            continue
        if file_sha256(path) != sha:
            report.add(Finding("checksum", "flagged", name, 0, 0,
                               "file changed on disk since it was stored (sha256 differs from the index)"))
        row = 1
        for rec in raw_chunks(path):
            report.rows_in += len(rec)
            check_records(rec, st, policy, report, name, row, [])
            row += len(rec)
        report.rows_kept = report.rows_in
    catalog.refresh(dataset, first_ns=None, last_ns=None, verdict=report.verdict(),
                    findings={"counts": dict(sorted(report.counts.items())), "last_validate": report.summary()})
    return report
