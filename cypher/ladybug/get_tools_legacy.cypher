// get_tools for a graph built before the side-effect hints and returns_observed existed (Ladybug fails on
// a property its table lacks, where Neo4j returns null): read it as it is until it is rebuilt.
UNWIND $ids AS i
MATCH (t:Tool {id: i})
RETURN t.id AS id, t.name AS name, t.original_name AS original_name, t.description AS description,
       t.category AS category, t.source AS source, t.parameters_json AS parameters_json,
       t.returns_json AS returns_json, t.returns_inferred AS returns_inferred
