"""OpenAPI 3.x and Swagger 2.0 documents (YAML or JSON): one tool per operation.

Parameters are the operation's path/query/header parameters plus its request body: an object body is
flattened into top-level parameters (the natural function signature) unless names clash, in which
case it stays one `body` parameter. Each property says where it goes in `x-in`. The first 2xx response
with a schema is the return value. Refs are inlined by `RefResolver`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolflow.loaders.build import FileContext, function_name
from toolflow.loaders.errors import LoadError, json_pointer
from toolflow.loaders.refs import RefResolver
from toolflow.loaders.sources import Record

FORMAT = "openapi"
SOURCE = "openapi"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Transport headers a caller never chooses; leaving them out keeps signatures about the API itself.
_SKIP_HEADERS = frozenset({"authorization", "content-type", "accept"})
#: Parameter keys (Swagger 2.0) that describe the parameter, not its value's schema.
_PARAM_META = frozenset(
    {
        "name",
        "in",
        "required",
        "description",
        "schema",
        "content",
        "allowEmptyValue",
        "collectionFormat",
        "style",
        "explode",
        "allowReserved",
        "example",
        "examples",
        "deprecated",
    }
)
_JSON_MEDIA = ("application/json",)
_FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_document(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("paths"), dict)
        and ("openapi" in value or "swagger" in value)
    )


def load(ctx: FileContext, records: Iterable[Record]) -> None:
    records = list(records)
    if len(records) != 1 or not is_document(records[0].value):
        ctx.error(
            "not an OpenAPI 3.x / Swagger 2.0 document (needs 'openapi' or 'swagger', and 'paths')",
            field="openapi",
        )
        return
    doc = records[0].value
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    title = str(info.get("title") or ctx.path.stem)
    api = _Api(ctx, doc, title)
    for path, item in doc["paths"].items():
        item_pointer = json_pointer("paths", path)
        try:
            item, _ = api.refs.deref(item, pointer=item_pointer)
        except LoadError as err:
            ctx.on_error(err.located(file=ctx.path))
            continue
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            pointer = f"{item_pointer}/{method}"
            try:
                api.add_operation(path, method, item, operation, pointer)
            except LoadError as err:
                ctx.on_error(err.located(file=ctx.path))


class _Api:
    """One document being converted; holds what every operation needs."""

    def __init__(self, ctx: FileContext, doc: dict[str, Any], title: str) -> None:
        self.ctx = ctx
        self.doc = doc
        self.title = title
        self.swagger2 = "swagger" in doc and "openapi" not in doc
        self.refs = RefResolver(doc)
        self.server = _server_url(doc, self.swagger2)

    def add_operation(
        self, path: str, method: str, item: dict[str, Any], op: dict[str, Any], pointer: str
    ) -> None:
        op_id = op.get("operationId")
        raw_name = op_id if isinstance(op_id, str) and op_id.strip() else f"{method} {path}"
        name, _ = function_name(raw_name)
        properties: dict[str, Any] = {}
        required: list[str] = []
        params = self._parameters(item, op, pointer)
        for param, param_pointer in params:
            if param.get("in") == "body":
                self._add_body(
                    properties,
                    required,
                    self._param_schema(param, param_pointer),
                    bool(param.get("required")),
                    param.get("name") or "body",
                    param_pointer,
                )
                continue
            key, prop = self._param_property(param, param_pointer)
            if key is None:
                continue
            properties[key] = prop
            if param.get("required") or param.get("in") == "path":
                required.append(key)
        if not self.swagger2 and "requestBody" in op:
            self._add_request_body(op["requestBody"], pointer, properties, required)
        returns = self._returns(op, pointer)
        extra = {"method": method.upper(), "path": path, **{k: op[k] for k in ("operationId", "tags", "deprecated") if k in op}}
        if self.server:
            extra["server"] = self.server
        links = [] if self.swagger2 else self._links(op, pointer)
        tool = self.ctx.make(
            id=f"{SOURCE}:{self.title}/{name}",
            name=raw_name,
            description=_description(op),
            parameters={"type": "object", "properties": properties, "required": required},
            returns=returns,
            category=self.title,
            source=SOURCE,
            extra=extra,
            pointer=pointer,
            **({"links": links} if links else {}),
        )
        self.ctx.add(tool, pointer=pointer)

    def _add_request_body(self, request_body: Any, pointer: str, properties: dict[str, Any],
                          required: list[str]) -> None:
        """An OpenAPI 3 request body's schema (its first usable media type) merged into the parameters."""
        body, body_pointer = self.refs.deref(request_body, pointer=f"{pointer}/requestBody")
        if not isinstance(body, dict):
            return
        media_type, schema = _media_schema(body.get("content"))
        if schema is not None:
            media_pointer = f"{body_pointer}{json_pointer('content', str(media_type), 'schema')}"
            self._add_body(properties, required, self.refs.expand(schema, pointer=media_pointer),
                           bool(body.get("required")), "body", media_pointer)

    def _parameters(self, item: dict[str, Any], op: dict[str, Any], pointer: str) -> list[tuple[dict, str]]:
        """Path-level then operation-level parameters; the operation's win on the same (name, in)."""
        merged: dict[tuple[Any, Any], tuple[dict, str]] = {}
        for source, base in (
            (item.get("parameters"), pointer.rsplit("/", 1)[0]),
            (op.get("parameters"), pointer),
        ):
            if not isinstance(source, list):
                continue
            for i, raw in enumerate(source):
                param, param_pointer = self.refs.deref(raw, pointer=f"{base}/parameters/{i}")
                if not isinstance(param, dict):
                    raise LoadError("parameter must be an object", pointer=param_pointer)
                for key in ("name", "in"):
                    if not isinstance(param.get(key), str):
                        raise LoadError(
                            "parameter needs a string value here", pointer=param_pointer, field=key
                        )
                merged[(param["name"], param["in"])] = (param, param_pointer)
        return list(merged.values())

    def _param_schema(self, param: dict[str, Any], pointer: str) -> Any:
        if "schema" in param:
            return self.refs.expand(param["schema"], pointer=f"{pointer}/schema")
        if "content" in param:
            media_type, schema = _media_schema(param["content"])
            if schema is None:
                return {}
            return self.refs.expand(schema, pointer=f"{pointer}{json_pointer('content', str(media_type), 'schema')}")
        # Swagger 2.0 non-body parameters carry the schema keywords themselves.
        schema = {k: v for k, v in param.items() if k not in _PARAM_META and not k.startswith("x-")}
        if schema.get("type") == "file":
            schema = {**schema, "type": "string", "format": "binary", "x-original-type": "file"}
        return self.refs.expand(schema, pointer=pointer)

    def _param_property(self, param: dict[str, Any], pointer: str) -> tuple[str | None, dict[str, Any]]:
        name, location = param.get("name"), param.get("in")
        if not isinstance(name, str) or not name:
            raise LoadError("parameter has no name", pointer=pointer, field="name")
        if location == "cookie" or (location == "header" and name.lower() in _SKIP_HEADERS):
            return None, {}
        schema = self._param_schema(param, pointer)
        if not isinstance(schema, dict):
            raise LoadError(
                f"parameter schema must be an object, got {type(schema).__name__}",
                pointer=pointer,
                field="schema",
            )
        prop = dict(schema)
        if isinstance(param.get("description"), str) and param["description"]:
            prop["description"] = param["description"]
        if "example" in param and "examples" not in prop:
            prop["examples"] = [param["example"]]
        if param.get("deprecated"):
            prop["deprecated"] = True
        prop["x-in"] = location
        return name, prop

    def _add_body(
        self,
        properties: dict[str, Any],
        required: list[str],
        schema: Any,
        body_required: bool,
        name: str,
        pointer: str,
    ) -> None:
        if not isinstance(schema, dict):
            raise LoadError(
                f"request body schema must be an object, got {type(schema).__name__}",
                pointer=pointer,
                field="schema",
            )
        flat = _merge_all_of(schema)
        props = flat.get("properties")
        # readOnly properties are server-set (ids, timestamps): not something a caller sends.
        writable = (
            {k: v for k, v in props.items() if not (isinstance(v, dict) and v.get("readOnly"))}
            if isinstance(props, dict)
            else {}
        )
        if writable and not (set(writable) & set(properties)):
            for key, sub in writable.items():
                properties[key] = {**sub, "x-in": "body"} if isinstance(sub, dict) else sub
            body_required_names = flat.get("required") if isinstance(flat.get("required"), list) else []
            required.extend(
                k for k in body_required_names if isinstance(k, str) and k in writable and k not in required
            )
            return
        key = name if name not in properties else f"{name}_body"
        properties[key] = {**schema, "x-in": "body"}
        if body_required:
            required.append(key)

    def _returns(self, op: dict[str, Any], pointer: str) -> Any:
        responses = op.get("responses")
        if not isinstance(responses, dict):
            return None
        for code in sorted((c for c in responses if str(c).startswith("2")), key=lambda c: str(c).upper()):
            response, resp_pointer = self.refs.deref(responses[code], pointer=f"{pointer}/responses/{code}")
            if not isinstance(response, dict):
                continue
            if self.swagger2:
                schema, schema_pointer = response.get("schema"), f"{resp_pointer}/schema"
            else:
                media_type, schema = _media_schema(response.get("content"))
                schema_pointer = f"{resp_pointer}{json_pointer('content', str(media_type), 'schema')}"
            if schema is None:
                continue
            expanded = self.refs.expand(schema, pointer=schema_pointer)
            if isinstance(expanded, dict) and "description" not in expanded and response.get("description"):
                expanded = {**expanded, "description": response["description"]}
            return expanded
        return None


    def _links(self, op: dict[str, Any], pointer: str) -> list[dict[str, str]]:
        """OpenAPI 3 response links of the 2xx responses: one entry per target parameter filled from the
        response body (``$response.body#/owner/username``). Other expressions (request values, headers) are
        not data that this call returns, so they are left out."""
        responses = op.get("responses")
        if not isinstance(responses, dict):
            return []
        out: list[dict[str, str]] = []
        for code in sorted((c for c in responses if str(c).startswith("2")), key=lambda c: str(c).upper()):
            response, resp_pointer = self.refs.deref(responses[code], pointer=f"{pointer}/responses/{code}")
            links = response.get("links") if isinstance(response, dict) else None
            if not isinstance(links, dict):
                continue
            for link_name, raw in links.items():
                link, _ = self.refs.deref(raw, pointer=f"{resp_pointer}{json_pointer('links', link_name)}")
                if not isinstance(link, dict) or not isinstance(link.get("parameters"), dict):
                    continue
                target = {k: link[k] for k in ("operationId", "operationRef") if isinstance(link.get(k), str)}
                if not target:
                    continue
                for param, expr in link["parameters"].items():
                    if not (isinstance(expr, str) and expr.startswith("$response.body#")):
                        continue
                    body_path = expr.split("#", 1)[1].strip("/").replace("/", ".")
                    out.append({
                        "name": str(link_name),
                        "operation_id": target.get("operationId"),
                        "operation_ref": target.get("operationRef"),
                        "param": str(param).split(".", 1)[-1] if "." in str(param) else str(param),
                        "from_field": body_path.replace("~1", "/").replace("~0", "~"),
                    })
        return out


def _media_schema(content: Any) -> tuple[str | None, Any]:
    """(media type, schema) of the preferred media type: JSON, then forms, then anything else that has one;
    (None, None) when none has a schema. The media type locates errors inside the schema."""
    if not isinstance(content, dict):
        return None, None
    ranked = sorted(content.items(), key=lambda kv: _media_rank(str(kv[0])))
    for media_type, media in ranked:
        if isinstance(media, dict) and "schema" in media:
            return str(media_type), media["schema"]
    return None, None


def _media_rank(media_type: str) -> int:
    lowered = media_type.lower()
    if lowered in _JSON_MEDIA:
        return 0
    if "json" in lowered:
        return 1
    if lowered in _FORM_MEDIA:
        return 2
    return 3


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    """Flatten a top-level `allOf` of object schemas into one (enough to list a body's properties)."""
    parts = schema.get("allOf")
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        return schema
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in [*(_merge_all_of(p) for p in parts), {k: v for k, v in schema.items() if k != "allOf"}]:
        if isinstance(part.get("properties"), dict):
            merged["properties"].update(part["properties"])
        if isinstance(part.get("required"), list):
            merged["required"].extend(r for r in part["required"] if r not in merged["required"])
    return merged


def _description(op: dict[str, Any]) -> str:
    summary = op.get("summary") if isinstance(op.get("summary"), str) else ""
    description = op.get("description") if isinstance(op.get("description"), str) else ""
    summary, description = summary.strip(), description.strip()
    if summary and description and not description.startswith(summary.rstrip(".")):
        return f"{summary}\n\n{description}"
    return description or summary


def _server_url(doc: dict[str, Any], swagger2: bool) -> str | None:
    if swagger2:
        host = doc.get("host")
        if not isinstance(host, str):
            return None
        schemes = doc.get("schemes") if isinstance(doc.get("schemes"), list) and doc["schemes"] else ["https"]
        return f"{schemes[0]}://{host}{doc.get('basePath') or ''}"
    servers = doc.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        return url if isinstance(url, str) else None
    return None
