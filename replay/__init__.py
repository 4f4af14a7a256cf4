"""The auditor's and operator's tools: history, state as of a moment, chain verification."""
