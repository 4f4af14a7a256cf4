"""The support desk's use cases: the application service, the answers it returns and
the access rules, used alike by HTTP, email and the command line."""
