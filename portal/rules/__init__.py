"""Rules as data: a trigger on a record (a field changes, a flag turns true or false, a
record is created) and actions; each fires once per transition, in the transaction of
the change, and every firing is logged with its inputs and what it did."""
