"""Email in and out: parsing and trimming messages, routing them to tickets, sending."""
