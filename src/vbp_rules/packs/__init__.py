"""Policy packs: the schema, loading, discovery, inheritance and overrides."""

from vbp_rules.packs.loader import (
    ENTRY_POINT_GROUP,
    PackInfo,
    builtin_packs_dir,
    find_pack,
    list_packs,
    load_pack,
    load_pack_file,
)
from vbp_rules.packs.model import PackModel, pack_json_schema
from vbp_rules.packs.pack import Pack, PackStatus

__all__ = [
    "ENTRY_POINT_GROUP",
    "Pack",
    "PackInfo",
    "PackModel",
    "PackStatus",
    "builtin_packs_dir",
    "find_pack",
    "list_packs",
    "load_pack",
    "load_pack_file",
    "pack_json_schema",
]
