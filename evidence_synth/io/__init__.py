"""Import and export: bibliographic exports, evidence gap maps, RIS/CSV/XLSX writers."""

from .egm import EvidenceMap, read_egm
from .readers import list_formats, read_records, sniff_format
from .records_table import read_records_csv
from .writers import write_records

__all__ = [
    "EvidenceMap",
    "list_formats",
    "read_egm",
    "read_records",
    "read_records_csv",
    "sniff_format",
    "write_records",
]
