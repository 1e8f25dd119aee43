// The build lock of this database: one (:BuildLock) node (unique, so concurrent first builds make one), on
// which a build holds a write lock for its whole run (see build_lock_take.cypher).
CREATE CONSTRAINT build_lock_name IF NOT EXISTS FOR (l:BuildLock) REQUIRE l.name IS UNIQUE;
MERGE (:BuildLock {name: 'graph'})
