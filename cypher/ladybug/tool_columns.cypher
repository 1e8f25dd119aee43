// The Tool table's columns: a graph built by an earlier version lacks the newer ones (see get_tools_legacy).
CALL table_info('Tool') RETURN name
