"""leand's data catalogue: bring-your-own data imported, downloaded, validated and stored columnar.

``index`` is the SQLite index (sqlite-utils), ``store`` the per-day memory-mapped numpy files, ``ingest`` the
streaming path every importer ends in, ``validate`` the checks and policies, ``source`` the feed's reader over
a catalogue (LEAN folder behind it), ``readers`` CSV/Parquet parsing, ``lean_import`` and ``download`` the
other ways in, ``l2`` book recordings (L2 deltas), ``revalidate`` the checks re-run on stored data. The ``leand data`` commands are in ``commands``.
"""

from leand.data.catalog.index import (
           Catalog,
           CatalogError,
           Dataset,
           DatasetKey,
           default_catalog_path,
           is_catalog,
)
from leand.data.catalog.source import CatalogDataSource

__all__ = ["Catalog", "CatalogDataSource", "CatalogError", "Dataset", "DatasetKey", "default_catalog_path",
           "is_catalog"]
