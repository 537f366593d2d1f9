"""Policy packs: the schema, loading, discovery, inheritance and overrides."""

from vbp_rules.packs.loader import (
    ENTRY_POINT_GROUP,
    PACKS_ENV,
    PackDiscoveryWarning,
    PackInfo,
    builtin_packs_dir,
    find_pack,
    list_packs,
    load_pack,
    load_pack_file,
    packs_search_path,
)
from vbp_rules.packs.model import PackModel, pack_json_schema
from vbp_rules.packs.pack import Pack, PackStatus

__all__ = [
    "ENTRY_POINT_GROUP",
    "PACKS_ENV",
    "Pack",
    "PackDiscoveryWarning",
    "PackInfo",
    "PackModel",
    "PackStatus",
    "builtin_packs_dir",
    "find_pack",
    "list_packs",
    "load_pack",
    "load_pack_file",
    "pack_json_schema",
    "packs_search_path",
]
