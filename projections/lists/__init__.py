"""The ticket lists: the agent inbox and the requesters' and team admins' lists, with
their filters, sorts and cursors."""
