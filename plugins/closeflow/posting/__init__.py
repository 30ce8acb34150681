"""Auto-posting: rules that turn extracted invoices into balanced journal entries."""

from closeflow.posting.engine import PostingResult, post_invoices
from closeflow.posting.rules import RuleSet, load_rules

__all__ = ["PostingResult", "RuleSet", "load_rules", "post_invoices"]
