// Bulk load from the Arrow table bound to the local variable `copy_source`.
COPY HAS_PARAM FROM copy_source
