// Ladybug needs every table declared up front (primary keys included).
CREATE NODE TABLE IF NOT EXISTS Tool(id STRING PRIMARY KEY, name STRING, original_name STRING, description STRING, category STRING, source STRING, parameters_json STRING, returns_json STRING, returns_inferred BOOLEAN, returns_observed BOOLEAN, read_only BOOLEAN, destructive BOOLEAN, idempotent BOOLEAN, search_text STRING, embedding FLOAT[]);
CREATE NODE TABLE IF NOT EXISTS Field(id STRING PRIMARY KEY, tool_id STRING, name STRING, description STRING, type STRING, role STRING, required BOOLEAN, source STRING);
CREATE NODE TABLE IF NOT EXISTS Category(name STRING PRIMARY KEY);
CREATE REL TABLE IF NOT EXISTS HAS_PARAM(FROM Tool TO Field);
CREATE REL TABLE IF NOT EXISTS RETURNS(FROM Tool TO Field);
CREATE REL TABLE IF NOT EXISTS IN_CATEGORY(FROM Tool TO Category);
CREATE REL TABLE IF NOT EXISTS MATCHES(FROM Field TO Field, score DOUBLE, kind STRING);
// FEEDS says why it exists: evidence kinds (e.g. "entity_id", "name", "credential", "link", "embedding"),
// the field-text cosine, the source field path -> parameter path, and where the returned value is known from
// (returns_source: declared, example, description, name, observed), and the calibrated scorer's probability.
CREATE REL TABLE IF NOT EXISTS FEEDS(FROM Tool TO Tool, score DOUBLE, from_field STRING, to_param STRING, evidence STRING, cosine DOUBLE, returns_source STRING, probability DOUBLE, verified BOOLEAN);
CREATE REL TABLE IF NOT EXISTS SHARES_INPUT(FROM Tool TO Tool, score DOUBLE, param_a STRING, param_b STRING);
CREATE REL TABLE IF NOT EXISTS SIMILAR(FROM Tool TO Tool, score DOUBLE)
