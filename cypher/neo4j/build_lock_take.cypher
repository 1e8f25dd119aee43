// Write-locks the build lock node inside a transaction the build keeps open until it ends (then rolls back).
// A second build's attempt waits on that lock and, run with a short transaction timeout, is stopped:
// "another build is running". A killed build's connection closes, the server rolls its transaction back and
// the lock is free at once, with no lease to wait out.
MATCH (l:BuildLock {name: 'graph'})
SET l.taken = datetime()
RETURN l.name AS name
