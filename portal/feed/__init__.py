"""The account feed: the confirmation service's daily file (oldest aging days per account,
last log-in per contact), imported through portal/imports; every change to those fields,
fed or edited by hand, goes through one function that derives the flags and tells the
watchers (the rules, portal/rules) in the same transaction."""
