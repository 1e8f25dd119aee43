// Bulk load from the Arrow table bound to the local variable `copy_source`.
COPY SHARES_INPUT FROM copy_source
