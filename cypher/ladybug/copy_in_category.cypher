// Bulk load from the Arrow table bound to the local variable `copy_source`.
COPY IN_CATEGORY FROM copy_source
