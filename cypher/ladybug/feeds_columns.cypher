// The FEEDS table's columns: a graph built by an earlier version lacks probability and verified.
CALL table_info('FEEDS') RETURN name
