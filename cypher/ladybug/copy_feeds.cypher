// Bulk load from the Arrow table bound to the local variable `copy_source`.
COPY FEEDS FROM copy_source
