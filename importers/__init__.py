"""Outside data turned into events: the two public ticket data sets and help articles."""
