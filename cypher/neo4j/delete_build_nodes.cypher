// A batch of the nodes of build $old, found through the (label, build) indexes; their edges go with them.
CALL () {
  MATCH (n:Tool {build: $old}) RETURN n
  UNION
  MATCH (n:Field {build: $old}) RETURN n
  UNION
  MATCH (n:Category {build: $old}) RETURN n
}
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
