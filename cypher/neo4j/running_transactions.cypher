// Transactions running now on this database, toolflow's own build transactions left out (they carry
// {toolflow: 'build'} in their metadata). A user without the admin privilege sees only their own.
SHOW TRANSACTIONS YIELD transactionId, metaData
WHERE metaData.toolflow IS NULL
RETURN transactionId AS id
