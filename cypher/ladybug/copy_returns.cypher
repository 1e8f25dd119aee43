// Bulk load from the Arrow table bound to the local variable `copy_source`.
COPY RETURNS FROM copy_source
