"""GitHub: approvals against the disposition chain, the note on the merge commit, the overcapacity issue."""
