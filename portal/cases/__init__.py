"""Cases (support tickets): types with their statuses and origins, owners, the timeline,
and the back-office work orders a case hands its work to."""
